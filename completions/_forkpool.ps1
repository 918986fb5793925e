
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
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'The first value of each source (its first line with --colsep) names it: use {name}. Only '':'' (the first line) is supported')
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
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs')
            [CompletionResult]::new('--max-procs', '--max-procs', [CompletionResultType]::ParameterName, 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs')
            [CompletionResult]::new('--delay', '--delay', [CompletionResultType]::ParameterName, 'Wait DURATION between job starts (30, 30s, 2m, 1h30m, 0.5)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Stop a job that runs longer than DURATION (30, 30s, 2m, 1h30m; 0: no limit), or longer than N% of the median runtime of the jobs finished so far. Its whole process group gets --termseq; the job counts as failed (joblog Exitval -1), even if it then exits 0')
            [CompletionResult]::new('--termseq', '--termseq', [CompletionResultType]::ParameterName, 'How to stop a job: signal names and waits in ms, tried in turn while any process of the job is alive')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Run a failed job up to N times in all; only the last attempt''s output is printed')
            [CompletionResult]::new('--halt', '--halt', [CompletionResultType]::ParameterName, 'Stop early: WHEN,WHY=N or WHEN,WHY=N%, with WHEN now (stop running jobs) or soon (let them finish) and WHY fail, success or done. With fail=1 the exit status is the failing job''s. Also: never, soon, now (= now,fail=1)')
            [CompletionResult]::new('--halt-on-error', '--halt-on-error', [CompletionResultType]::ParameterName, 'Stop early: WHEN,WHY=N or WHEN,WHY=N%, with WHEN now (stop running jobs) or soon (let them finish) and WHY fail, success or done. With fail=1 the exit status is the failing job''s. Also: never, soon, now (= now,fail=1)')
            [CompletionResult]::new('--tagstring', '--tagstring', [CompletionResultType]::ParameterName, 'Prefix each output line with STR and a tab; STR may use replacement strings')
            [CompletionResult]::new('--joblog', '--joblog', [CompletionResultType]::ParameterName, 'Log each finished job to FILE in GNU parallel''s joblog format (- is stdout)')
            [CompletionResult]::new('--results', '--results', [CompletionResultType]::ParameterName, 'Save each job''s stdout, stderr and sequence number under DIR/1/VALUE/2/VALUE/... (with --header, the inputs'' names instead of 1, 2; a value too long for one file name is split into subdirectories)')
            [CompletionResult]::new('--res', '--res', [CompletionResultType]::ParameterName, 'Save each job''s stdout, stderr and sequence number under DIR/1/VALUE/2/VALUE/... (with --header, the inputs'' names instead of 1, 2; a value too long for one file name is split into subdirectories)')
            [CompletionResult]::new('--init', '--init', [CompletionResultType]::ParameterName, 'Run shell command CMD once in each worker slot before the slot''s first job (and again after each recycle). It sees FORKPOOL_SLOT, FORKPOOL_WORKER (this worker''s run-unique id) and FORKPOOL_ENV, a file: KEY=VALUE lines it writes there are added to the environment of every job the worker runs. Its output goes to stderr. A worker whose init fails (non-zero exit, or past --init-timeout) 3 times in a row is retired; its jobs run on other workers')
            [CompletionResult]::new('--teardown', '--teardown', [CompletionResultType]::ParameterName, 'Run shell command CMD once per worker after its last job: at the end of input, before a recycle and on interrupt. It sees the same environment as the worker''s jobs')
            [CompletionResult]::new('--worker-max-jobs', '--worker-max-jobs', [CompletionResultType]::ParameterName, 'Recycle a worker after N jobs: run --teardown, then --init again as a new worker')
            [CompletionResult]::new('--init-timeout', '--init-timeout', [CompletionResultType]::ParameterName, 'Time limit for each --init and --teardown run (e.g. 30s, 2m). On interrupt, teardowns get this long, or 10s when it is not given')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Run jobs on remote hosts over OpenSSH: [N/]HOST, comma-separated, repeatable. N is the host''s job slots (default: -j if given, else the host''s CPU count, asked once with nproc); HOST is anything ssh takes (user@host, an alias of ~/.ssh/config); : is this machine. Jobs go to whichever host has a free slot')
            [CompletionResult]::new('--sshlogin', '--sshlogin', [CompletionResultType]::ParameterName, 'Run jobs on remote hosts over OpenSSH: [N/]HOST, comma-separated, repeatable. N is the host''s job slots (default: -j if given, else the host''s CPU count, asked once with nproc); HOST is anything ssh takes (user@host, an alias of ~/.ssh/config); : is this machine. Jobs go to whichever host has a free slot')
            [CompletionResult]::new('--sshloginfile', '--sshloginfile', [CompletionResultType]::ParameterName, 'Read --sshlogin entries from FILE, one per line (# comments and blank lines skipped), as from an HPC node list')
            [CompletionResult]::new('--slf', '--slf', [CompletionResultType]::ParameterName, 'Read --sshlogin entries from FILE, one per line (# comments and blank lines skipped), as from an HPC node list')
            [CompletionResult]::new('--ssh', '--ssh', [CompletionResultType]::ParameterName, 'The ssh command, split into words as sh would (default: ssh), e.g. --ssh ''ssh -F ~/.ssh/cluster''. Its options come before forkpool''s own -o options, so they win')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Copy the local environment variable NAME to every job, remote ones too (repeatable)')
            [CompletionResult]::new('--transferfile', '--transferfile', [CompletionResultType]::ParameterName, 'Send FILE (usually {}) to the host before the job, under the same relative path (an absolute one stays absolute); replacement strings work (repeatable)')
            [CompletionResult]::new('--tf', '--tf', [CompletionResultType]::ParameterName, 'Send FILE (usually {}) to the host before the job, under the same relative path (an absolute one stays absolute); replacement strings work (repeatable)')
            [CompletionResult]::new('--return', '--return', [CompletionResultType]::ParameterName, 'Fetch FILE from the host after the job, to the same relative path here; replacement strings work (repeatable)')
            [CompletionResult]::new('--trc', '--trc', [CompletionResultType]::ParameterName, '--transferfile {} --return FILE --cleanup in one')
            [CompletionResult]::new('--basefile', '--basefile', [CompletionResultType]::ParameterName, 'Send FILE to every host once, before its first job (repeatable); with --cleanup it is removed at the end')
            [CompletionResult]::new('--bf', '--bf', [CompletionResultType]::ParameterName, 'Send FILE to every host once, before its first job (repeatable); with --cleanup it is removed at the end')
            [CompletionResult]::new('--workdir', '--workdir', [CompletionResultType]::ParameterName, 'Run remote jobs in DIR on the host (relative to the login directory; created if missing). DIR ... (three dots) is a fresh directory per run, removed at the end')
            [CompletionResult]::new('--wd', '--wd', [CompletionResultType]::ParameterName, 'Run remote jobs in DIR on the host (relative to the login directory; created if missing). DIR ... (three dots) is a fresh directory per run, removed at the end')
            [CompletionResult]::new('--buffer-size', '--buffer-size', [CompletionResultType]::ParameterName, 'Keep at most SIZE bytes of waiting output in memory (K, M, G suffixes); more is spilled to unlinked files in the temporary directory')
            [CompletionResult]::new('--tmpdir', '--tmpdir', [CompletionResultType]::ParameterName, 'Directory for spilled output (default: $TMPDIR, else /tmp)')
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
            [CompletionResult]::new('--onall', '--onall', [CompletionResultType]::ParameterName, 'Run every job on every host (one at a time per host, hosts in parallel; each host''s output is grouped; --tag tags lines with the host)')
            [CompletionResult]::new('--nonall', '--nonall', [CompletionResultType]::ParameterName, 'Run the command once on every host, with no input (--tag tags lines with the host)')
            [CompletionResult]::new('--filter-hosts', '--filter-hosts', [CompletionResultType]::ParameterName, 'Drop hosts that cannot be reached at the start, with a warning (else that is an error)')
            [CompletionResult]::new('--cleanup', '--cleanup', [CompletionResultType]::ParameterName, 'Remove the transferred and returned files from the host after the job')
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
