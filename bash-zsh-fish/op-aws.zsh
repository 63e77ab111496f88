# op-aws shell integration for zsh: eval "$(op-aws activate zsh)" in ~/.zshrc.
#
# `op-aws activate zsh` prints a prelude before this file:
#   __op_aws_wrapped=(aws cdk ...)   the commands to wrap (from `op-aws list`)
#   __op_aws_op_plugins=PATH         1Password's plugins.sh, if it aliases some of them
#   __op_aws_op_aliased=(aws ...)    those it aliases
#   __op_aws_op_rc=PATH              the rc file that sources it, if known

# Include guard: sourcing this twice defines nothing twice.
if [[ -z "${__op_aws_loaded-}" ]]; then
    typeset -g __op_aws_loaded=1
    typeset -g __op_aws_state=''
    # For `op-aws inspect` and `doctor`: the integration is loaded in this shell.
    export OP_AWS_SHELL=zsh

    # The cd hook (chpwd) and prompt hook (precmd). The key is compared in the shell, so a
    # plain Enter spawns nothing; only a new directory, session item or profile runs
    # `op-aws hook-env` (one process).
    __op_aws_hook() {
        \builtin emulate -L zsh
        \builtin local __op_aws_key="${PWD}|${OP_AWS_SESSION_ITEM-}|${AWS_PROFILE-}"
        if [[ "${__op_aws_state}" != "${__op_aws_key}" ]]; then
            __op_aws_state=${__op_aws_key}
            \builtin local __op_aws_env
            # A failing hook-env has said why on stderr; the prompt goes on.
            __op_aws_env="$(\command op-aws hook-env --shell zsh)" || :
            \builtin eval -- "${__op_aws_env}"
        fi
        # compinit usually runs after this file: register completion once it exists.
        if [[ -z "${__op_aws_compdef_done-}" ]] && (( ${+functions[compdef]} )); then
            typeset -g __op_aws_compdef_done=1
            compdef __op_aws_complete_aws aws
            compdef __op_aws_complete_profile_value -value-,AWS_PROFILE,-default-
        fi
    }

    # Hooks preserve $? for the prompt: zsh restores it around precmd and chpwd functions,
    # and __op_aws_hook returns its own last status only to the hook runner.
    __op_aws_precmd() {
        \builtin local __op_aws_status=$?
        # Once, at the first prompt: aliases made after this file was sourced.
        if [[ -n "${__op_aws_alias_recheck-}" ]]; then
            __op_aws_alias_recheck=
            __op_aws_warn_aliases
        fi
        __op_aws_hook
        \builtin return "${__op_aws_status}"
    }

    # `op-aws use` and `op-aws clear` change this shell: the binary prints the statements
    # (with __OP_AWS_SHELL set) and we evaluate them. Everything else passes through.
    op-aws() {
        \builtin emulate -L zsh
        \builtin local __op_aws_rc=0 __op_aws_out __op_aws_arg
        case "${1-}" in
            use | clear)
                for __op_aws_arg in "$@"; do
                    case "${__op_aws_arg}" in
                        -h | --help)
                            \command op-aws "$@"
                            \builtin return
                            ;;
                    esac
                done
                __op_aws_out="$(__OP_AWS_SHELL=zsh \command op-aws "$@")" || __op_aws_rc=$?
                if (( __op_aws_rc == 0 )); then
                    \builtin eval -- "${__op_aws_out}"
                fi
                ;;
            *)
                \command op-aws "$@" || __op_aws_rc=$?
                ;;
        esac
        case "${1-}" in
            use | clear | unlock | lock | init)
                # Defaults or the agent changed: recompute what applies here now. After a
                # lock, keys exported by export mode are read again, so they go.
                if [[ "${1}" == lock ]]; then \builtin unset __OP_AWS_EXPORT; fi
                __op_aws_state=''
                __op_aws_hook
                ;;
        esac
        \builtin return "${__op_aws_rc}"
    }

    # One function per wrapped command, set through $functions so an alias of the same name
    # cannot break the definition.
    for __op_aws_cmd in "${__op_aws_wrapped[@]}"; do
        functions[${__op_aws_cmd}]="\\command op-aws run -- ${__op_aws_cmd} \"\$@\""
    done
    \builtin unset __op_aws_cmd

    # zsh expands an alias before it looks for a function, so 1Password's plugins.sh
    # (`alias aws="op plugin run -- aws"`) silently takes `aws` away from op-aws. Say so, once
    # per name, on stderr; the alias stays: it is the user's, and the hint says how to drop it.
    __op_aws_warn_aliases() {
        [[ -o aliases ]] || \builtin return 0
        \builtin emulate -L zsh
        \builtin local __op_aws_c __op_aws_from __op_aws_names='' __op_aws_theirs=''
        for __op_aws_c in "${__op_aws_wrapped[@]}"; do
            (( ${+aliases[${__op_aws_c}]} )) || continue
            [[ " ${__op_aws_alias_warned-} " != *" ${__op_aws_c} "* ]] || continue
            typeset -g __op_aws_alias_warned="${__op_aws_alias_warned-} ${__op_aws_c}"
            __op_aws_names+=" ${__op_aws_c}"
            __op_aws_from=''
            if [[ -n "${__op_aws_op_plugins}" && ${__op_aws_op_aliased[(Ie)${__op_aws_c}]} -gt 0 ]]; then
                __op_aws_from=", set by ${__op_aws_op_plugins}"
                __op_aws_theirs=1
            fi
            \builtin printf 'op-aws: warning: `%s` is an alias (for `%s`%s), and zsh expands an alias before any function: `%s` bypasses op-aws\n' \
                "${__op_aws_c}" "${aliases[${__op_aws_c}]}" "${__op_aws_from}" "${__op_aws_c}" >&2
        done
        [[ -n "${__op_aws_names}" ]] || \builtin return 0
        if [[ -n "${__op_aws_theirs}" ]]; then
            \builtin printf 'hint: remove `source %s` from %s (`op-aws import --from-1password-plugin` brings its defaults over), or run `unalias%s`\n' \
                "${__op_aws_op_plugins}" "${__op_aws_op_rc:-your shell startup file}" "${__op_aws_names}" >&2
        else
            \builtin printf 'hint: remove the alias from your shell startup files, or run `unalias%s`\n' "${__op_aws_names}" >&2
        fi
    }

    __op_aws_profiles() {
        \builtin emulate -L zsh
        \builtin local out
        out="$(\command op-aws profiles 2>/dev/null)" || :
        reply=("${(@f)out}")
        reply=("${(@)reply:#}")
    }

    # aws --profile <TAB> (and --profile=<TAB>) from `op-aws profiles`; anything else goes to
    # the AWS CLI's own completer when it is installed.
    __op_aws_complete_aws() {
        \builtin emulate -L zsh
        \builtin local -a reply
        if [[ "${words[CURRENT-1]}" == --profile ]]; then
            __op_aws_profiles
            compadd -a reply
            \builtin return
        fi
        if [[ "${PREFIX}" == --profile=* ]]; then
            compset -P '--profile='
            __op_aws_profiles
            compadd -a reply
            \builtin return
        fi
        if (( ${+commands[aws_completer]} )); then
            \builtin local line="${(j: :)words[1,CURRENT]}" out
            out="$(COMP_LINE="${line}" COMP_POINT="${#line}" \command aws_completer 2>/dev/null)" || :
            reply=("${(@f)out}")
            reply=("${(@)reply%% }")
            compadd -a reply
        else
            _default
        fi
    }

    # AWS_PROFILE=<TAB>, also after `export`.
    __op_aws_complete_profile_value() {
        \builtin emulate -L zsh
        \builtin local -a reply
        __op_aws_profiles
        compadd -a reply
    }

    \builtin autoload -Uz add-zsh-hook
    add-zsh-hook chpwd __op_aws_hook
    add-zsh-hook precmd __op_aws_precmd

    # The state here right away, for scripts that source this and never show a prompt.
    __op_aws_warn_aliases
    __op_aws_hook
    typeset -g __op_aws_alias_recheck=1
fi
