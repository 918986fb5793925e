//! forkpool's integration tests: one binary, a module per area, each driving the built program.

mod support;

mod architecture;
mod compat;
mod core;
mod defects;
mod docs;
mod faults;
mod gnu;
mod progress;
mod remote;
mod results;
mod robust;
mod signals;
mod workers;
