//! forkpool's integration tests: one binary, a module per area, each driving the built program.

mod support;

mod architecture;
mod compat;
mod core;
mod defects;
mod docs;
mod faults;
mod gates;
mod gnu;
mod halting;
mod persistent;
mod pipe;
mod progress;
mod remote;
mod replacements;
mod results;
mod results_files;
mod robust;
mod signals;
mod workers;
