# op-aws shell integration for fish: `op-aws activate fish | source` in config.fish.
#
# `op-aws activate fish` prints a prelude before this file:
#   set -g __op_aws_wrapped aws cdk ...   the commands to wrap (from `op-aws list`)
#   set -g __op_aws_op_plugins PATH       1Password's plugins.sh, if it aliases some of them
#   set -g __op_aws_op_aliased aws ...    those it aliases
#   set -g __op_aws_op_rc PATH            the rc file that sources it, if known

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

    # fish's `alias` defines a function, so whichever is defined last wins: 1Password's
    # plugins.sh sourced before this file loses `aws` to op-aws, sourced after it takes `aws`
    # away. Check once, at the first prompt, and say so on stderr.
    function __op_aws_check_aliases --on-event fish_prompt
        functions -e __op_aws_check_aliases
        set -l names
        set -l theirs
        for c in $__op_aws_wrapped
            functions -q -- $c; or continue
            set -l desc (functions --details --verbose -- $c)[5]
            test "$desc" = "$c with credentials from op-aws"; and continue
            set -a names $c
            set -l from
            if test -n "$__op_aws_op_plugins"; and contains -- $c $__op_aws_op_aliased
                set from ", set by $__op_aws_op_plugins"
                set theirs 1
            end
            printf 'op-aws: warning: `%s` was defined again after op-aws (%s%s): `%s` bypasses op-aws\n' $c "$desc" "$from" $c >&2
        end
        set -q names[1]; or return 0
        set -l rc $__op_aws_op_rc
        test -n "$rc"; or set rc config.fish
        if set -q theirs[1]
            printf 'hint: remove `source %s` from %s (`op-aws import --from-1password-plugin` brings its defaults over), or source it before op-aws\n' $__op_aws_op_plugins $rc >&2
        else
            printf 'hint: define %s before `op-aws activate fish | source`, or not at all\n' "$names" >&2
        end
    end

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
