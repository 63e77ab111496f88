# op-aws shell integration for fish: `op-aws activate fish | source` in config.fish.
#
# `op-aws activate fish` prints a prelude before this file:
#   set -g __op_aws_wrapped aws cdk ...   the commands to wrap (from `op-aws list`)

# Include guard: sourcing this twice defines nothing twice.
if not set -q __op_aws_loaded
    set -g __op_aws_loaded 1
    set -g __op_aws_state ''
    # For `op-aws inspect` and `doctor`: the integration is loaded in this shell.
    set -gx OP_AWS_SHELL fish

    # The cd hook (PWD changes) and prompt hook. The key is compared in the shell, so a plain
    # Enter spawns nothing; only a new directory, session item or profile runs
    # `op-aws hook-env` (one process).
    function __op_aws_hook --on-variable PWD --on-event fish_prompt
        set -l __op_aws_status $status
        set -l __op_aws_key "$PWD|$OP_AWS_SESSION_ITEM|$AWS_PROFILE"
        if test "$__op_aws_state" != "$__op_aws_key"
            set -g __op_aws_state $__op_aws_key
            command op-aws hook-env --shell fish | source
        end
        return $__op_aws_status
    end

    # `op-aws use` and `op-aws clear` change this shell: the binary prints the statements
    # (with __OP_AWS_SHELL set) and we evaluate them. Everything else passes through.
    function op-aws
        set -l __op_aws_rc 0
        if contains -- "$argv[1]" use clear; and not contains -- -h $argv; and not contains -- --help $argv
            set -l __op_aws_out (__OP_AWS_SHELL=fish command op-aws $argv | string collect)
            set __op_aws_rc $pipestatus[1]
            if test $__op_aws_rc -eq 0
                printf '%s\n' $__op_aws_out | source
            end
        else
            command op-aws $argv
            set __op_aws_rc $status
        end
        if contains -- "$argv[1]" use clear unlock lock init
            # Defaults or the agent changed: recompute what applies here now. After a
            # lock, keys exported by export mode are read again, so they go.
            test "$argv[1]" = lock; and set -e __OP_AWS_EXPORT
            set -g __op_aws_state ''
            __op_aws_hook
        end
        return $__op_aws_rc
    end

    # One function per wrapped command; -V keeps the name the function was made for.
    for __op_aws_cmd in $__op_aws_wrapped
        function $__op_aws_cmd -V __op_aws_cmd -d "$__op_aws_cmd with credentials from op-aws"
            command op-aws run -- $__op_aws_cmd $argv
        end
    end
    set -e __op_aws_cmd

    # aws --profile <TAB> (and --profile=<TAB>) from `op-aws profiles`.
    complete -c aws -l profile -x -a '(command op-aws profiles 2>/dev/null)' -d 'AWS profile'
    # Anything else goes to the AWS CLI's own completer when it is installed.
    function __op_aws_aws_completer
        set -l line (commandline -cp)
        COMP_LINE=$line COMP_POINT=(string length -- "$line") command aws_completer 2>/dev/null | string trim -r
    end
    function __op_aws_want_aws_completer
        set -l prev (commandline -opc)[-1]
        test "$prev" != --profile; and type -q aws_completer
    end
    complete -c aws -f -n __op_aws_want_aws_completer -a '(__op_aws_aws_completer)'
    # set -gx AWS_PROFILE <TAB>
    function __op_aws_setting_profile
        test (commandline -opc)[-1] = AWS_PROFILE
    end
    complete -c set -n __op_aws_setting_profile -x -a '(command op-aws profiles 2>/dev/null)'

    # The state here right away, for scripts that source this and never show a prompt.
    __op_aws_hook
end
