
use builtin;
use str;

set edit:completion:arg-completer[forkpool] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'forkpool'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'forkpool'= {
            cand -a 'Read job inputs from FILE (repeatable; - is stdin), as :::: FILE does'
            cand --arg-file 'Read job inputs from FILE (repeatable; - is stdin), as :::: FILE does'
            cand -d 'Input values are separated by DELIM (escapes: \n \t \0 \\)'
            cand --delimiter 'Input values are separated by DELIM (escapes: \n \t \0 \\)'
            cand -C 'Split each input value into columns at the regular expression SEP ({1}, {2}, ...)'
            cand --colsep 'Split each input value into columns at the regular expression SEP ({1}, {2}, ...)'
            cand --trim 'Remove white space from the start (l), the end (r) or both ends (lr, rl) of each input value, or of each column with --colsep; n: none. --colsep alone trims both ends'
            cand --header 'The first value of each source (its first line with --colsep) names it: use {name}. Only '':'' (the first line) is supported'
            cand -E 'Stop reading an input source at the value STR'
            cand --eof 'Stop reading an input source at the value STR'
            cand -I 'Use STR instead of {} as the replacement string for the input'
            cand -n 'Use at most N inputs per job; -n0 reads one input per job and inserts none'
            cand --max-args 'Use at most N inputs per job; -n0 reads one input per job and inserts none'
            cand -L 'Use at most N input lines per job (as -n; a line ending in a blank does not continue)'
            cand --max-lines 'Use at most N input lines per job (as -n; a line ending in a blank does not continue)'
            cand -N 'Use at most N inputs per job, reachable as {1}..{N}; -N0 reads one input and inserts none'
            cand --max-replace-args 'Use at most N inputs per job, reachable as {1}..{N}; -N0 reads one input and inserts none'
            cand -s 'Limit a job''s command line to N bytes (with -X, -m, --xargs)'
            cand --max-chars 'Limit a job''s command line to N bytes (with -X, -m, --xargs)'
            cand --shell 'Run commands that need a shell with PATH instead of /bin/sh'
            cand -j 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs. A FILE that holds one of these is read again every second while the run goes on, so the run can be widened or narrowed (running jobs are never stopped). With --semaphore: the number of holders at once (default 1)'
            cand --jobs 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs. A FILE that holds one of these is read again every second while the run goes on, so the run can be widened or narrowed (running jobs are never stopped). With --semaphore: the number of holders at once (default 1)'
            cand --max-procs 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs. A FILE that holds one of these is read again every second while the run goes on, so the run can be widened or narrowed (running jobs are never stopped). With --semaphore: the number of holders at once (default 1)'
            cand --delay 'Wait DURATION between job starts (30, 30s, 2m, 1h30m, 0.5)'
            cand --timeout 'Stop a job that runs longer than DURATION (30, 30s, 2m, 1h30m; 0: no limit), or longer than N% of the median runtime of the jobs finished so far. Its whole process group gets --termseq; the job counts as failed (joblog Exitval -1), even if it then exits 0'
            cand --termseq 'How to stop a job: signal names and waits in ms, tried in turn while any process of the job is alive'
            cand --retries 'Run a failed job up to N times in all; only the last attempt''s output is printed'
            cand --halt 'Stop early: WHEN,WHY=N or WHEN,WHY=N%, with WHEN now (stop running jobs) or soon (let them finish) and WHY fail, success or done. With fail=1 the exit status is the failing job''s. Also: never, soon, now (= now,fail=1)'
            cand --halt-on-error 'Stop early: WHEN,WHY=N or WHEN,WHY=N%, with WHEN now (stop running jobs) or soon (let them finish) and WHY fail, success or done. With fail=1 the exit status is the failing job''s. Also: never, soon, now (= now,fail=1)'
            cand --load 'Start no job while the machine''s load is MAX or more: N, or N% of the CPUs (as -j). The load is the number of tasks running or waiting for a CPU or the disk right now (state R or D in /proc, threads counted, kernel threads and forkpool itself not), as GNU parallel counts it; forkpool''s own jobs count too. Not the 1-minute load average'
            cand --memfree 'Start no job while less than SIZE of memory is available (MemAvailable; K, M, G, T suffixes, powers of 1024); a job started in the last 2 seconds, or since then while available memory keeps falling, counts as using SIZE, as its memory may not show yet. Below SIZE/2 the youngest job is stopped with --termseq and put back in the queue (its attempt not counted), unless it is the only one running'
            cand --limit 'Run shell command CMD before starting a job; its exit status decides: 0 start, 1 wait and ask again, 2 stop the youngest job (it runs again later), as GNU parallel'
            cand --nice 'Run jobs at niceness N (-20 to 19). Below forkpool''s own niceness it takes privilege; without it jobs run at forkpool''s'
            cand --id 'The semaphore''s name (default: the controlling terminal, or "not a tty"). Implies --semaphore'
            cand --semaphore-name 'The semaphore''s name (default: the controlling terminal, or "not a tty"). Implies --semaphore'
            cand --semaphore-timeout 'Wait at most SECS for the semaphore, then run COMMAND anyway; with a negative SECS, give up and exit 1 instead (as GNU parallel). Implies --semaphore'
            cand --st 'Wait at most SECS for the semaphore, then run COMMAND anyway; with a negative SECS, give up and exit 1 instead (as GNU parallel). Implies --semaphore'
            cand --tagstring 'Prefix each output line with STR and a tab; STR may use replacement strings'
            cand --joblog 'Log each finished job to FILE in GNU parallel''s joblog format (- is stdout)'
            cand --results 'Save each job''s stdout, stderr and sequence number under DIR/1/VALUE/2/VALUE/... (with --header, the inputs'' names instead of 1, 2; a value too long for one file name is split into subdirectories)'
            cand --res 'Save each job''s stdout, stderr and sequence number under DIR/1/VALUE/2/VALUE/... (with --header, the inputs'' names instead of 1, 2; a value too long for one file name is split into subdirectories)'
            cand --init 'Run shell command CMD once in each worker slot before the slot''s first job (and again after each recycle). It sees FORKPOOL_SLOT, FORKPOOL_WORKER (this worker''s run-unique id) and FORKPOOL_ENV, a file: KEY=VALUE lines it writes there are added to the environment of every job the worker runs. Its output goes to stderr. A worker whose init fails (non-zero exit, or past --init-timeout) 3 times in a row is retired; its jobs run on other workers'
            cand --teardown 'Run shell command CMD once per worker after its last job: at the end of input, before a recycle and on interrupt. It sees the same environment as the worker''s jobs'
            cand --worker-max-jobs 'Recycle a worker after N jobs: run --teardown, then --init again as a new worker'
            cand --init-timeout 'Time limit for each --init and --teardown run (e.g. 30s, 2m). On interrupt, teardowns get this long, or 10s when it is not given'
            cand --buffer-size 'Keep at most SIZE bytes of waiting output in memory (K, M, G suffixes); more is spilled to unlinked files in the temporary directory'
            cand --tmpdir 'Directory for spilled output (default: $TMPDIR, else /tmp)'
            cand -0 'Input values are separated by NUL bytes, not newlines (for find -print0)'
            cand --null 'Input values are separated by NUL bytes, not newlines (for find -print0)'
            cand -r 'Skip input values that are empty or only white space'
            cand --no-run-if-empty 'Skip input values that are empty or only white space'
            cand --link 'Pair the input sources element-wise instead of combining them; shorter ones wrap around'
            cand --xapply 'Pair the input sources element-wise instead of combining them; shorter ones wrap around'
            cand -X 'Put as many inputs in each job as the command line allows, repeating the word around {} for each one (context replace); spread them over the job slots when they all fit'
            cand -m 'Put as many inputs in each job as the command line allows; spread them over the job slots when they all fit'
            cand --xargs 'Put as many inputs in each job as the command line allows, as xargs does'
            cand -q 'Quote the command words too, so they reach the program as literal arguments'
            cand --quote 'Quote the command words too, so they reach the program as literal arguments'
            cand --noswap 'Start no job while the machine swaps both in and out (/proc/vmstat, sampled each second)'
            cand --semaphore 'Work as a counting semaphore, as GNU parallel''s sem: run COMMAND once, when fewer than -j (default 1) holders of the same --id run. Also when invoked as `sem`'
            cand --fg 'Run COMMAND in the foreground: wait for it and exit with its status. Implies --semaphore'
            cand --bg 'Return as soon as the semaphore is taken; COMMAND runs on in the background, its output going to forkpool''s stdout and stderr (the default). Implies --semaphore'
            cand --wait 'Wait until every holder of the semaphore has finished. Implies --semaphore'
            cand -k 'Print each job''s output in input order (it is still written whole when the job ends)'
            cand --keep-order 'Print each job''s output in input order (it is still written whole when the job ends)'
            cand --line-buffer 'Write output as whole lines as soon as they are produced; lines of jobs interleave'
            cand --lb 'Write output as whole lines as soon as they are produced; lines of jobs interleave'
            cand -u 'Write output straight through, as produced; jobs'' output may mix mid-line'
            cand --ungroup 'Write output straight through, as produced; jobs'' output may mix mid-line'
            cand --group 'Write each job''s output whole when it ends (the default)'
            cand --tag 'Prefix each output line with the job''s input and a tab'
            cand --dry-run 'Print the commands that would run, in input order, without running them'
            cand --will-cite 'GNU parallel''s notice and citation switches and --silent: accepted, and nothing to do'
            cand -t 'Print each command on stderr before it runs'
            cand --verbose 'Print each command on stderr before it runs'
            cand -v 'Print each command on stdout before its output'
            cand --json 'Print one JSON object per finished job on stdout instead of the jobs'' output (see JSON OUTPUT below)'
            cand --resume 'Skip the jobs whose sequence number is already in --joblog; append to it'
            cand --resume-failed 'As --resume, but run again the jobs the joblog records as failed (with today''s command)'
            cand --retry-failed 'Run again only the jobs that --joblog records as failed, with their logged commands'
            cand --bar 'Show a progress bar on stderr: jobs done of the total, running, failed, rate, elapsed time and ETA. Shown only when stderr is a terminal; the total appears once it is known'
            cand --eta 'Show a one-line ETA on stderr: jobs done of the total, failed, and the estimated time left. Shown only when stderr is a terminal'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
