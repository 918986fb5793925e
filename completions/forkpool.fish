complete -c forkpool -s a -l arg-file -d 'Read job inputs from FILE (repeatable; - is stdin), as :::: FILE does' -r -F
complete -c forkpool -s d -l delimiter -d 'Input values are separated by DELIM (escapes: \\n \\t \\0 \\\\)' -r
complete -c forkpool -s C -l colsep -d 'Split each input value into columns at the regular expression SEP ({1}, {2}, ...)' -r
complete -c forkpool -l trim -d 'Remove white space from the start (l), the end (r) or both ends (lr, rl) of each input value, or of each column with --colsep; n: none. --colsep alone trims both ends' -r -f -a "n\t''
l\t''
r\t''
lr\t''
rl\t''"
complete -c forkpool -l header -d 'The first value of each source (its first line with --colsep) names it: use {name}. With --pipe or --pipepart: N (lines) or a regular expression matched at the start of the input, repeated at the start of every block' -r
complete -c forkpool -s E -l eof -d 'Stop reading an input source at the value STR' -r
complete -c forkpool -s I -d 'Use STR instead of {} as the replacement string for the input' -r
complete -c forkpool -s n -l max-args -d 'Use at most N inputs per job; -n0 reads one input per job and inserts none' -r
complete -c forkpool -s L -d 'Use at most N input lines per job (as -n; a line ending in a blank does not continue), and fill {} once per input, as -N does (unless -m or --xargs)' -r
complete -c forkpool -l max-lines -d 'Use at most N input lines per job, as -L but without filling {} once per input' -r
complete -c forkpool -s N -l max-replace-args -d 'Use at most N inputs per job, reachable as {1}..{N}; -N0 reads one input and inserts none' -r
complete -c forkpool -s s -l max-chars -d 'Limit a job\'s command line to N bytes (with -X, -m, --xargs)' -r
complete -c forkpool -l shell -d 'Run commands that need a shell with PATH instead of /bin/sh' -r -F
complete -c forkpool -l rpl -d 'Define a replacement string: \'TAG perl-expression\', e.g. --rpl \'{..} s/\\.[^.]*$//\'. A (group) in TAG is a regex whose text the expression gets as $$1 ... Repeatable' -r
complete -c forkpool -s j -l jobs -l max-procs -d 'Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many as possible. Default: the number of CPUs. A FILE that holds one of these is read again every second while the run goes on, so the run can be widened or narrowed (running jobs are never stopped). With --semaphore: the number of holders at once (default 1)' -r
complete -c forkpool -l delay -d 'Wait DURATION between job starts (30, 30s, 2m, 1h30m, 0.5)' -r
complete -c forkpool -l timeout -d 'Stop a job that runs longer than DURATION (30, 30s, 2m, 1h30m; 0: no limit), or longer than N% of the median runtime of the jobs finished so far. Its whole process group gets --termseq; the job counts as failed (joblog Exitval -1), even if it then exits 0' -r
complete -c forkpool -l termseq -d 'How to stop a job: signal names and waits in ms, tried in turn while any process of the job is alive' -r
complete -c forkpool -l retries -d 'Run a failed job up to N times in all (0: until it succeeds, as GNU parallel); only the last attempt\'s output is printed' -r
complete -c forkpool -l halt -l halt-on-error -d 'Stop early: WHEN,WHY=N or WHEN,WHY=N%, with WHEN now (stop running jobs) or soon (let them finish) and WHY fail, success or done. With fail=1 or done=1 the exit status is the halting job\'s. Also: never, and GNU\'s old 0 (never), 1 (soon,fail=1), 2 (now,fail=1)' -r
complete -c forkpool -l load -d 'Start no job while the machine\'s load is MAX or more: N, or N% of the CPUs (as -j). The load is the number of tasks running or waiting for a CPU or the disk right now (state R or D in /proc, threads counted, kernel threads and forkpool itself not), as GNU parallel counts it; forkpool\'s own jobs count too. Not the 1-minute load average' -r
complete -c forkpool -l memfree -d 'Start no job while less than SIZE of memory is available (MemAvailable; K, M, G, T suffixes, powers of 1024); a job started in the last 2 seconds, or since then while available memory keeps falling, counts as using SIZE, as its memory may not show yet. Below SIZE/2 the youngest job is stopped with --termseq and put back in the queue (its attempt not counted), unless it is the only one running' -r
complete -c forkpool -l limit -d 'Run shell command CMD before starting a job; its exit status decides: 0 start, 1 wait and ask again, 2 stop the youngest job (it runs again later), as GNU parallel' -r
complete -c forkpool -l nice -d 'Run jobs at niceness N (-20 to 19). Below forkpool\'s own niceness it takes privilege; without it jobs run at forkpool\'s. On a remote host a job runs under `nice -n N`' -r
complete -c forkpool -l id -l semaphore-name -d 'The semaphore\'s name (default: the controlling terminal, or "not a tty"). Implies --semaphore' -r
complete -c forkpool -l semaphore-timeout -l st -d 'Wait at most SECS for the semaphore, then run COMMAND anyway; with a negative SECS, give up and exit 1 instead (as GNU parallel). Implies --semaphore' -r
complete -c forkpool -l tagstring -d 'Prefix each output line with STR and a tab; STR may use replacement strings, and \\t, \\n, \\r and octal \\NNN stand for the characters' -r
complete -c forkpool -l joblog -d 'Log each finished job to FILE in GNU parallel\'s joblog format (- is stdout)' -r -F
complete -c forkpool -l results -l res -d 'Save each job\'s stdout, stderr and sequence number under DIR/1/VALUE/2/VALUE/... (with --header, the inputs\' names instead of 1, 2; a value too long for one file name is split into subdirectories)' -r -F
complete -c forkpool -l init -d 'Run shell command CMD once in each worker slot before the slot\'s first job (and again after each recycle). It sees FORKPOOL_SLOT, FORKPOOL_WORKER (this worker\'s run-unique id) and FORKPOOL_ENV, a file: KEY=VALUE lines it writes there are added to the environment of every job the worker runs. Its output goes to stderr. A worker whose init fails (non-zero exit, or past --init-timeout) 3 times in a row is retired; its jobs run on other workers' -r
complete -c forkpool -l teardown -d 'Run shell command CMD once per worker after its last job: at the end of input, before a recycle and on interrupt. It sees the same environment as the worker\'s jobs' -r
complete -c forkpool -l worker-max-jobs -d 'Recycle a worker after N jobs: run --teardown, then --init again as a new worker' -r
complete -c forkpool -l init-timeout -d 'Time limit for each --init and --teardown run (e.g. 30s, 2m). On interrupt, teardowns get this long, or 10s when it is not given' -r
complete -c forkpool -l send -d 'What a --persistent request holds, filled in per job without shell quoting (default {}), followed by a newline' -r
complete -c forkpool -l protocol -d 'How a --persistent worker\'s reply ends: line (one line per request), end=STR (the lines up to a line that is exactly STR, which is dropped) or json (one JSON object per line each way; see the README)' -r
complete -c forkpool -s S -l sshlogin -d 'Run jobs on remote hosts over OpenSSH: [N/]HOST, comma-separated, repeatable. N is the host\'s job slots (default: -j if given, else the host\'s CPU count, asked once with nproc); HOST is anything ssh takes (user@host, an alias of ~/.ssh/config); : is this machine. Jobs go to whichever host has a free slot' -r
complete -c forkpool -l sshloginfile -l slf -d 'Read --sshlogin entries from FILE, one per line (# comments and blank lines skipped), as from an HPC node list' -r -F
complete -c forkpool -l ssh -d 'The ssh command, split into words as sh would (default: ssh), e.g. --ssh \'ssh -F ~/.ssh/cluster\'. Its options come before forkpool\'s own -o options, so they win' -r
complete -c forkpool -l env -d 'Copy the local environment variable NAME to every job, remote ones too (repeatable)' -r
complete -c forkpool -l transferfile -l tf -d 'Send FILE (usually {}) to the host before the job, under the same relative path (an absolute one stays absolute); replacement strings work (repeatable)' -r
complete -c forkpool -l return -d 'Fetch FILE from the host after the job, to the same relative path here; replacement strings work (repeatable)' -r
complete -c forkpool -l trc -d '--transferfile {} --return FILE --cleanup in one' -r
complete -c forkpool -l basefile -l bf -d 'Send FILE to every host once, before its first job (repeatable); with --cleanup it is removed at the end' -r
complete -c forkpool -l workdir -l wd -d 'Run remote jobs in DIR on the host (relative to the login directory; created if missing). DIR ... (three dots) is a fresh directory per run, removed at the end' -r
complete -c forkpool -l buffer-size -d 'Keep at most SIZE bytes of waiting output in memory (K, M, G suffixes); more is spilled to unlinked files in the temporary directory' -r
complete -c forkpool -l tmpdir -d 'Directory for spilled output (default: $TMPDIR, else /tmp)' -r -F
complete -c forkpool -l block -l block-size -l blocksize -d 'Bytes per block (default 1M; K M G T = 1024^n, k m g t = 1000^n). A --pipe block ends on the last record boundary within SIZE (unless one record is larger); a --pipepart block on the first one from SIZE on, as GNU parallel\'s. With --pipepart, -N means N blocks per job slot (default -10)' -r
complete -c forkpool -l recend -d 'A record ends with STR (default: a newline; escapes \\n \\t \\0 \\xHH)' -r
complete -c forkpool -l recstart -d 'A record starts with STR (cuts go where --recend is followed by STR)' -r
complete -c forkpool -s 0 -l null -d 'Input values are separated by NUL bytes, not newlines (for find -print0)'
complete -c forkpool -s r -l no-run-if-empty -d 'Skip input values that are empty or only white space'
complete -c forkpool -l link -l xapply -d 'Pair the input sources element-wise instead of combining them; shorter ones wrap around'
complete -c forkpool -s X -d 'Put as many inputs in each job as the command line allows, repeating the word around {} for each one (context replace); spread them over the job slots when they all fit'
complete -c forkpool -s m -d 'Put as many inputs in each job as the command line allows; spread them over the job slots when they all fit'
complete -c forkpool -l xargs -d 'Put as many inputs in each job as the command line allows, as xargs does'
complete -c forkpool -s q -l quote -d 'Quote the command words too, so they reach the program as literal arguments'
complete -c forkpool -l plus -d 'Add GNU parallel\'s --plus replacement strings: {+/} {+.} {+..} {+...} {..} {...} {/..} {/...} {##} {0#} {0%} {:-STR} {:N} {:N:LEN} {#RE} {##RE} {%RE} {%%RE} {/RE/STR} {//RE/STR} {/#RE/STR} {/%RE/STR} {^STR} {^^STR} {,STR} {,,STR} {choose_k} {uniq} {slot} (see README: "Perl expressions")'
complete -c forkpool -l noswap -d 'Start no job while the machine swaps both in and out (/proc/vmstat, sampled each second)'
complete -c forkpool -l semaphore -d 'Work as a counting semaphore, as GNU parallel\'s sem: run COMMAND once, when fewer than -j (default 1) holders of the same --id run. Also when invoked as `sem`'
complete -c forkpool -l fg -d 'Run COMMAND in the foreground: wait for it and exit with its status. Implies --semaphore'
complete -c forkpool -l bg -d 'Return as soon as the semaphore is taken; COMMAND runs on in the background, its output going to forkpool\'s stdout and stderr (the default). Implies --semaphore'
complete -c forkpool -l wait -d 'Wait until every holder of the semaphore has finished. Implies --semaphore'
complete -c forkpool -s k -l keep-order -d 'Print each job\'s output in input order (it is still written whole when the job ends)'
complete -c forkpool -l line-buffer -l lb -d 'Write output as whole lines as soon as they are produced; lines of jobs interleave'
complete -c forkpool -s u -l ungroup -d 'Write output straight through, as produced; jobs\' output may mix mid-line'
complete -c forkpool -l group -d 'Write each job\'s output whole when it ends (the default)'
complete -c forkpool -l tag -d 'Prefix each output line with the job\'s input and a tab'
complete -c forkpool -l dry-run -d 'Print the commands that would run, in input order, without running them'
complete -c forkpool -l will-cite -d 'GNU parallel\'s notice and citation switches and --silent: accepted, and nothing to do'
complete -c forkpool -s t -l verbose -d 'Print each command on stderr before it runs'
complete -c forkpool -s v -d 'Print each command on stdout before its output'
complete -c forkpool -l json -d 'Print one JSON object per finished job on stdout instead of the jobs\' output (see JSON OUTPUT below)'
complete -c forkpool -l resume -d 'Skip the jobs whose sequence number is already in --joblog; append to it'
complete -c forkpool -l resume-failed -d 'As --resume, but run again the jobs the joblog records as failed (with today\'s command)'
complete -c forkpool -l retry-failed -d 'Run again only the jobs that --joblog records as failed, with their logged commands'
complete -c forkpool -l bar -d 'Show a progress bar on stderr: jobs done of the total, running, failed, rate, elapsed time and ETA. Shown only when stderr is a terminal; the total appears once it is known. Pipe mode on a file counts the input\'s bytes instead'
complete -c forkpool -l eta -d 'Show a one-line ETA on stderr: jobs done of the total, failed, and the estimated time left. Shown only when stderr is a terminal'
complete -c forkpool -l persistent -d 'Start the command once per worker (after its --init) and send it one request per job on its stdin; its reply on stdout is the job\'s output (see --protocol). The command may use {%} and the worker variables, not per-job replacement strings'
complete -c forkpool -l send-null -d 'End --persistent requests with a NUL byte instead of a newline'
complete -c forkpool -l onall -d 'Run every job on every host (one at a time per host, hosts in parallel; each host\'s output is grouped; --tag tags lines with the host)'
complete -c forkpool -l nonall -d 'Run the command once on every host, with no input (--tag tags lines with the host)'
complete -c forkpool -l filter-hosts -d 'Drop hosts that cannot be reached at the start, with a warning (else that is an error)'
complete -c forkpool -l cleanup -d 'Remove the transferred and returned files from the host after the job'
complete -c forkpool -l pipe -l spreadstdin -d 'Cut the input (stdin, or the one -a/:::: FILE) into blocks of records and give each block to a job on its stdin. -N N: N records per block; -L N: a record is N lines'
complete -c forkpool -l pipepart -l pipe-part -d 'As --pipe, for a regular file (-a FILE): jobs get byte ranges of it, found by reading only around each cut, so the records never pass through forkpool'
complete -c forkpool -l regexp -l regex -d 'Read --recend and --recstart as regular expressions'
complete -c forkpool -l remove-rec-sep -l removerecsep -l rrs -d 'Leave --recend and --recstart out of the blocks'
complete -c forkpool -l round-robin -l roundrobin -l round -d 'Start one job per slot and spread the blocks over their stdins (for commands that are slow to start); each slot\'s job is one result'
complete -c forkpool -l cat -d 'Write each block to a temporary file, whose name is {} (removed when the job ends)'
complete -c forkpool -l fifo -d 'Give each block through a named pipe, whose name is {} (removed when the job ends)'
complete -c forkpool -s h -l help -d 'Print help (see more with \'--help\')'
complete -c forkpool -s V -l version -d 'Print version'
