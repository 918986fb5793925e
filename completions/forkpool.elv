
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
            cand --rpl 'Define a replacement string: ''TAG perl-expression'', e.g. --rpl ''{..} s/\.[^.]*$//''. A (group) in TAG is a regex whose text the expression gets as $$1 ... Repeatable'
            cand --env 'Pass the environment variable NAME to jobs on remote hosts (jobs here inherit the whole environment). Repeatable'
            cand -j 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs'
            cand --jobs 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs'
            cand --max-procs 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs'
            cand --delay 'Wait DURATION between job starts (30, 30s, 2m, 1h30m, 0.5)'
            cand --timeout 'Stop a job that runs longer than DURATION (30, 30s, 2m, 1h30m; 0: no limit), or longer than N% of the median runtime of the jobs finished so far. Its whole process group gets --termseq; the job counts as failed (joblog Exitval -1), even if it then exits 0'
            cand --termseq 'How to stop a job: signal names and waits in ms, tried in turn while any process of the job is alive'
            cand --retries 'Run a failed job up to N times in all; only the last attempt''s output is printed'
            cand --halt 'Stop early: WHEN,WHY=N or WHEN,WHY=N%, with WHEN now (stop running jobs) or soon (let them finish) and WHY fail, success or done. With fail=1 the exit status is the failing job''s. Also: never, soon, now (= now,fail=1)'
            cand --halt-on-error 'Stop early: WHEN,WHY=N or WHEN,WHY=N%, with WHEN now (stop running jobs) or soon (let them finish) and WHY fail, success or done. With fail=1 the exit status is the failing job''s. Also: never, soon, now (= now,fail=1)'
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
            cand --plus 'Add GNU parallel''s --plus replacement strings: {+/} {+.} {+..} {+...} {..} {...} {/..} {/...} {##} {0#} {0%} {:-STR} {:N} {:N:LEN} {#RE} {##RE} {%RE} {%%RE} {/RE/STR} {//RE/STR} {/#RE/STR} {/%RE/STR} {^STR} {^^STR} {,STR} {,,STR} {choose_k} {uniq} {slot} (see README: "Perl expressions")'
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
