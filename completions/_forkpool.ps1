
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'forkpool' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'forkpool'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'forkpool' {
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Read job inputs from FILE (repeatable; - is stdin), as :::: FILE does')
            [CompletionResult]::new('--arg-file', '--arg-file', [CompletionResultType]::ParameterName, 'Read job inputs from FILE (repeatable; - is stdin), as :::: FILE does')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Input values are separated by DELIM (escapes: \n \t \0 \\)')
            [CompletionResult]::new('--delimiter', '--delimiter', [CompletionResultType]::ParameterName, 'Input values are separated by DELIM (escapes: \n \t \0 \\)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Split each input value into columns at the regular expression SEP ({1}, {2}, ...)')
            [CompletionResult]::new('--colsep', '--colsep', [CompletionResultType]::ParameterName, 'Split each input value into columns at the regular expression SEP ({1}, {2}, ...)')
            [CompletionResult]::new('--trim', '--trim', [CompletionResultType]::ParameterName, 'Remove white space from the start (l), the end (r) or both ends (lr, rl) of each input value, or of each column with --colsep; n: none. --colsep alone trims both ends')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'The first value of each source (its first line with --colsep) names it: use {name}. With --pipe or --pipepart: N (lines) or a regular expression matched at the start of the input, repeated at the start of every block')
            [CompletionResult]::new('-E', '-E ', [CompletionResultType]::ParameterName, 'Stop reading an input source at the value STR')
            [CompletionResult]::new('--eof', '--eof', [CompletionResultType]::ParameterName, 'Stop reading an input source at the value STR')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Use STR instead of {} as the replacement string for the input')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Use at most N inputs per job; -n0 reads one input per job and inserts none')
            [CompletionResult]::new('--max-args', '--max-args', [CompletionResultType]::ParameterName, 'Use at most N inputs per job; -n0 reads one input per job and inserts none')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Use at most N input lines per job (as -n; a line ending in a blank does not continue)')
            [CompletionResult]::new('--max-lines', '--max-lines', [CompletionResultType]::ParameterName, 'Use at most N input lines per job (as -n; a line ending in a blank does not continue)')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'Use at most N inputs per job, reachable as {1}..{N}; -N0 reads one input and inserts none')
            [CompletionResult]::new('--max-replace-args', '--max-replace-args', [CompletionResultType]::ParameterName, 'Use at most N inputs per job, reachable as {1}..{N}; -N0 reads one input and inserts none')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Limit a job''s command line to N bytes (with -X, -m, --xargs)')
            [CompletionResult]::new('--max-chars', '--max-chars', [CompletionResultType]::ParameterName, 'Limit a job''s command line to N bytes (with -X, -m, --xargs)')
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'Run commands that need a shell with PATH instead of /bin/sh')
            [CompletionResult]::new('--rpl', '--rpl', [CompletionResultType]::ParameterName, 'Define a replacement string: ''TAG perl-expression'', e.g. --rpl ''{..} s/\.[^.]*$//''. A (group) in TAG is a regex whose text the expression gets as $$1 ... Repeatable')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Pass the environment variable NAME to jobs on remote hosts (jobs here inherit the whole environment). Repeatable')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs. A FILE that holds one of these is read again every second while the run goes on, so the run can be widened or narrowed (running jobs are never stopped). With --semaphore: the number of holders at once (default 1)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs. A FILE that holds one of these is read again every second while the run goes on, so the run can be widened or narrowed (running jobs are never stopped). With --semaphore: the number of holders at once (default 1)')
            [CompletionResult]::new('--max-procs', '--max-procs', [CompletionResultType]::ParameterName, 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs. A FILE that holds one of these is read again every second while the run goes on, so the run can be widened or narrowed (running jobs are never stopped). With --semaphore: the number of holders at once (default 1)')
            [CompletionResult]::new('--delay', '--delay', [CompletionResultType]::ParameterName, 'Wait DURATION between job starts (30, 30s, 2m, 1h30m, 0.5)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Stop a job that runs longer than DURATION (30, 30s, 2m, 1h30m; 0: no limit), or longer than N% of the median runtime of the jobs finished so far. Its whole process group gets --termseq; the job counts as failed (joblog Exitval -1), even if it then exits 0')
            [CompletionResult]::new('--termseq', '--termseq', [CompletionResultType]::ParameterName, 'How to stop a job: signal names and waits in ms, tried in turn while any process of the job is alive')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Run a failed job up to N times in all; only the last attempt''s output is printed')
            [CompletionResult]::new('--halt', '--halt', [CompletionResultType]::ParameterName, 'Stop early: WHEN,WHY=N or WHEN,WHY=N%, with WHEN now (stop running jobs) or soon (let them finish) and WHY fail, success or done. With fail=1 the exit status is the failing job''s. Also: never, soon, now (= now,fail=1)')
            [CompletionResult]::new('--halt-on-error', '--halt-on-error', [CompletionResultType]::ParameterName, 'Stop early: WHEN,WHY=N or WHEN,WHY=N%, with WHEN now (stop running jobs) or soon (let them finish) and WHY fail, success or done. With fail=1 the exit status is the failing job''s. Also: never, soon, now (= now,fail=1)')
            [CompletionResult]::new('--load', '--load', [CompletionResultType]::ParameterName, 'Start no job while the machine''s load is MAX or more: N, or N% of the CPUs (as -j). The load is the number of tasks running or waiting for a CPU or the disk right now (state R or D in /proc, threads counted, kernel threads and forkpool itself not), as GNU parallel counts it; forkpool''s own jobs count too. Not the 1-minute load average')
            [CompletionResult]::new('--memfree', '--memfree', [CompletionResultType]::ParameterName, 'Start no job while less than SIZE of memory is available (MemAvailable; K, M, G, T suffixes, powers of 1024); a job started in the last 2 seconds, or since then while available memory keeps falling, counts as using SIZE, as its memory may not show yet. Below SIZE/2 the youngest job is stopped with --termseq and put back in the queue (its attempt not counted), unless it is the only one running')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Run shell command CMD before starting a job; its exit status decides: 0 start, 1 wait and ask again, 2 stop the youngest job (it runs again later), as GNU parallel')
            [CompletionResult]::new('--nice', '--nice', [CompletionResultType]::ParameterName, 'Run jobs at niceness N (-20 to 19). Below forkpool''s own niceness it takes privilege; without it jobs run at forkpool''s')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'The semaphore''s name (default: the controlling terminal, or "not a tty"). Implies --semaphore')
            [CompletionResult]::new('--semaphore-name', '--semaphore-name', [CompletionResultType]::ParameterName, 'The semaphore''s name (default: the controlling terminal, or "not a tty"). Implies --semaphore')
            [CompletionResult]::new('--semaphore-timeout', '--semaphore-timeout', [CompletionResultType]::ParameterName, 'Wait at most SECS for the semaphore, then run COMMAND anyway; with a negative SECS, give up and exit 1 instead (as GNU parallel). Implies --semaphore')
            [CompletionResult]::new('--st', '--st', [CompletionResultType]::ParameterName, 'Wait at most SECS for the semaphore, then run COMMAND anyway; with a negative SECS, give up and exit 1 instead (as GNU parallel). Implies --semaphore')
            [CompletionResult]::new('--tagstring', '--tagstring', [CompletionResultType]::ParameterName, 'Prefix each output line with STR and a tab; STR may use replacement strings')
            [CompletionResult]::new('--joblog', '--joblog', [CompletionResultType]::ParameterName, 'Log each finished job to FILE in GNU parallel''s joblog format (- is stdout)')
            [CompletionResult]::new('--results', '--results', [CompletionResultType]::ParameterName, 'Save each job''s stdout, stderr and sequence number under DIR/1/VALUE/2/VALUE/... (with --header, the inputs'' names instead of 1, 2; a value too long for one file name is split into subdirectories)')
            [CompletionResult]::new('--res', '--res', [CompletionResultType]::ParameterName, 'Save each job''s stdout, stderr and sequence number under DIR/1/VALUE/2/VALUE/... (with --header, the inputs'' names instead of 1, 2; a value too long for one file name is split into subdirectories)')
            [CompletionResult]::new('--init', '--init', [CompletionResultType]::ParameterName, 'Run shell command CMD once in each worker slot before the slot''s first job (and again after each recycle). It sees FORKPOOL_SLOT, FORKPOOL_WORKER (this worker''s run-unique id) and FORKPOOL_ENV, a file: KEY=VALUE lines it writes there are added to the environment of every job the worker runs. Its output goes to stderr. A worker whose init fails (non-zero exit, or past --init-timeout) 3 times in a row is retired; its jobs run on other workers')
            [CompletionResult]::new('--teardown', '--teardown', [CompletionResultType]::ParameterName, 'Run shell command CMD once per worker after its last job: at the end of input, before a recycle and on interrupt. It sees the same environment as the worker''s jobs')
            [CompletionResult]::new('--worker-max-jobs', '--worker-max-jobs', [CompletionResultType]::ParameterName, 'Recycle a worker after N jobs: run --teardown, then --init again as a new worker')
            [CompletionResult]::new('--init-timeout', '--init-timeout', [CompletionResultType]::ParameterName, 'Time limit for each --init and --teardown run (e.g. 30s, 2m). On interrupt, teardowns get this long, or 10s when it is not given')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'What a --persistent request holds, filled in per job without shell quoting (default {}), followed by a newline')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'How a --persistent worker''s reply ends: line (one line per request), end=STR (the lines up to a line that is exactly STR, which is dropped) or json (one JSON object per line each way; see the README)')
            [CompletionResult]::new('--buffer-size', '--buffer-size', [CompletionResultType]::ParameterName, 'Keep at most SIZE bytes of waiting output in memory (K, M, G suffixes); more is spilled to unlinked files in the temporary directory')
            [CompletionResult]::new('--tmpdir', '--tmpdir', [CompletionResultType]::ParameterName, 'Directory for spilled output (default: $TMPDIR, else /tmp)')
            [CompletionResult]::new('--block', '--block', [CompletionResultType]::ParameterName, 'Bytes per block (default 1M; K M G T = 1024^n, k m g t = 1000^n). A block ends on a record boundary and is no larger unless one record is. With --pipepart, -N means N blocks per job slot')
            [CompletionResult]::new('--block-size', '--block-size', [CompletionResultType]::ParameterName, 'Bytes per block (default 1M; K M G T = 1024^n, k m g t = 1000^n). A block ends on a record boundary and is no larger unless one record is. With --pipepart, -N means N blocks per job slot')
            [CompletionResult]::new('--blocksize', '--blocksize', [CompletionResultType]::ParameterName, 'Bytes per block (default 1M; K M G T = 1024^n, k m g t = 1000^n). A block ends on a record boundary and is no larger unless one record is. With --pipepart, -N means N blocks per job slot')
            [CompletionResult]::new('--recend', '--recend', [CompletionResultType]::ParameterName, 'A record ends with STR (default: a newline; escapes \n \t \0 \xHH)')
            [CompletionResult]::new('--recstart', '--recstart', [CompletionResultType]::ParameterName, 'A record starts with STR (cuts go where --recend is followed by STR)')
            [CompletionResult]::new('-0', '-0', [CompletionResultType]::ParameterName, 'Input values are separated by NUL bytes, not newlines (for find -print0)')
            [CompletionResult]::new('--null', '--null', [CompletionResultType]::ParameterName, 'Input values are separated by NUL bytes, not newlines (for find -print0)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Skip input values that are empty or only white space')
            [CompletionResult]::new('--no-run-if-empty', '--no-run-if-empty', [CompletionResultType]::ParameterName, 'Skip input values that are empty or only white space')
            [CompletionResult]::new('--link', '--link', [CompletionResultType]::ParameterName, 'Pair the input sources element-wise instead of combining them; shorter ones wrap around')
            [CompletionResult]::new('--xapply', '--xapply', [CompletionResultType]::ParameterName, 'Pair the input sources element-wise instead of combining them; shorter ones wrap around')
            [CompletionResult]::new('-X', '-X ', [CompletionResultType]::ParameterName, 'Put as many inputs in each job as the command line allows, repeating the word around {} for each one (context replace); spread them over the job slots when they all fit')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Put as many inputs in each job as the command line allows; spread them over the job slots when they all fit')
            [CompletionResult]::new('--xargs', '--xargs', [CompletionResultType]::ParameterName, 'Put as many inputs in each job as the command line allows, as xargs does')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quote the command words too, so they reach the program as literal arguments')
            [CompletionResult]::new('--quote', '--quote', [CompletionResultType]::ParameterName, 'Quote the command words too, so they reach the program as literal arguments')
            [CompletionResult]::new('--plus', '--plus', [CompletionResultType]::ParameterName, 'Add GNU parallel''s --plus replacement strings: {+/} {+.} {+..} {+...} {..} {...} {/..} {/...} {##} {0#} {0%} {:-STR} {:N} {:N:LEN} {#RE} {##RE} {%RE} {%%RE} {/RE/STR} {//RE/STR} {/#RE/STR} {/%RE/STR} {^STR} {^^STR} {,STR} {,,STR} {choose_k} {uniq} {slot} (see README: "Perl expressions")')
            [CompletionResult]::new('--noswap', '--noswap', [CompletionResultType]::ParameterName, 'Start no job while the machine swaps both in and out (/proc/vmstat, sampled each second)')
            [CompletionResult]::new('--semaphore', '--semaphore', [CompletionResultType]::ParameterName, 'Work as a counting semaphore, as GNU parallel''s sem: run COMMAND once, when fewer than -j (default 1) holders of the same --id run. Also when invoked as `sem`')
            [CompletionResult]::new('--fg', '--fg', [CompletionResultType]::ParameterName, 'Run COMMAND in the foreground: wait for it and exit with its status. Implies --semaphore')
            [CompletionResult]::new('--bg', '--bg', [CompletionResultType]::ParameterName, 'Return as soon as the semaphore is taken; COMMAND runs on in the background, its output going to forkpool''s stdout and stderr (the default). Implies --semaphore')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until every holder of the semaphore has finished. Implies --semaphore')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Print each job''s output in input order (it is still written whole when the job ends)')
            [CompletionResult]::new('--keep-order', '--keep-order', [CompletionResultType]::ParameterName, 'Print each job''s output in input order (it is still written whole when the job ends)')
            [CompletionResult]::new('--line-buffer', '--line-buffer', [CompletionResultType]::ParameterName, 'Write output as whole lines as soon as they are produced; lines of jobs interleave')
            [CompletionResult]::new('--lb', '--lb', [CompletionResultType]::ParameterName, 'Write output as whole lines as soon as they are produced; lines of jobs interleave')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Write output straight through, as produced; jobs'' output may mix mid-line')
            [CompletionResult]::new('--ungroup', '--ungroup', [CompletionResultType]::ParameterName, 'Write output straight through, as produced; jobs'' output may mix mid-line')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Write each job''s output whole when it ends (the default)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Prefix each output line with the job''s input and a tab')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the commands that would run, in input order, without running them')
            [CompletionResult]::new('--will-cite', '--will-cite', [CompletionResultType]::ParameterName, 'GNU parallel''s notice and citation switches and --silent: accepted, and nothing to do')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Print each command on stderr before it runs')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each command on stderr before it runs')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each command on stdout before its output')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object per finished job on stdout instead of the jobs'' output (see JSON OUTPUT below)')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Skip the jobs whose sequence number is already in --joblog; append to it')
            [CompletionResult]::new('--resume-failed', '--resume-failed', [CompletionResultType]::ParameterName, 'As --resume, but run again the jobs the joblog records as failed (with today''s command)')
            [CompletionResult]::new('--retry-failed', '--retry-failed', [CompletionResultType]::ParameterName, 'Run again only the jobs that --joblog records as failed, with their logged commands')
            [CompletionResult]::new('--bar', '--bar', [CompletionResultType]::ParameterName, 'Show a progress bar on stderr: jobs done of the total, running, failed, rate, elapsed time and ETA. Shown only when stderr is a terminal; the total appears once it is known')
            [CompletionResult]::new('--eta', '--eta', [CompletionResultType]::ParameterName, 'Show a one-line ETA on stderr: jobs done of the total, failed, and the estimated time left. Shown only when stderr is a terminal')
            [CompletionResult]::new('--persistent', '--persistent', [CompletionResultType]::ParameterName, 'Start the command once per worker (after its --init) and send it one request per job on its stdin; its reply on stdout is the job''s output (see --protocol). The command may use {%} and the worker variables, not per-job replacement strings')
            [CompletionResult]::new('--send-null', '--send-null', [CompletionResultType]::ParameterName, 'End --persistent requests with a NUL byte instead of a newline')
            [CompletionResult]::new('--pipe', '--pipe', [CompletionResultType]::ParameterName, 'Cut the input (stdin, or the one -a/:::: FILE) into blocks of records and give each block to a job on its stdin. -N N: N records per block; -L N: a record is N lines')
            [CompletionResult]::new('--spreadstdin', '--spreadstdin', [CompletionResultType]::ParameterName, 'Cut the input (stdin, or the one -a/:::: FILE) into blocks of records and give each block to a job on its stdin. -N N: N records per block; -L N: a record is N lines')
            [CompletionResult]::new('--pipepart', '--pipepart', [CompletionResultType]::ParameterName, 'As --pipe, for a regular file (-a FILE): jobs get byte ranges of it, found by reading only around each cut, so the records never pass through forkpool')
            [CompletionResult]::new('--pipe-part', '--pipe-part', [CompletionResultType]::ParameterName, 'As --pipe, for a regular file (-a FILE): jobs get byte ranges of it, found by reading only around each cut, so the records never pass through forkpool')
            [CompletionResult]::new('--regexp', '--regexp', [CompletionResultType]::ParameterName, 'Read --recend and --recstart as regular expressions')
            [CompletionResult]::new('--regex', '--regex', [CompletionResultType]::ParameterName, 'Read --recend and --recstart as regular expressions')
            [CompletionResult]::new('--remove-rec-sep', '--remove-rec-sep', [CompletionResultType]::ParameterName, 'Leave --recend and --recstart out of the blocks')
            [CompletionResult]::new('--removerecsep', '--removerecsep', [CompletionResultType]::ParameterName, 'Leave --recend and --recstart out of the blocks')
            [CompletionResult]::new('--rrs', '--rrs', [CompletionResultType]::ParameterName, 'Leave --recend and --recstart out of the blocks')
            [CompletionResult]::new('--round-robin', '--round-robin', [CompletionResultType]::ParameterName, 'Start one job per slot and spread the blocks over their stdins (for commands that are slow to start); each slot''s job is one result')
            [CompletionResult]::new('--roundrobin', '--roundrobin', [CompletionResultType]::ParameterName, 'Start one job per slot and spread the blocks over their stdins (for commands that are slow to start); each slot''s job is one result')
            [CompletionResult]::new('--round', '--round', [CompletionResultType]::ParameterName, 'Start one job per slot and spread the blocks over their stdins (for commands that are slow to start); each slot''s job is one result')
            [CompletionResult]::new('--cat', '--cat', [CompletionResultType]::ParameterName, 'Write each block to a temporary file, whose name is {} (removed when the job ends)')
            [CompletionResult]::new('--fifo', '--fifo', [CompletionResultType]::ParameterName, 'Give each block through a named pipe, whose name is {} (removed when the job ends)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
