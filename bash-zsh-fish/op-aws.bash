# op-aws shell integration for bash: eval "$(op-aws activate bash)" in ~/.bashrc.
#
# `op-aws activate bash` prints a prelude before this file:
#   __op_aws_wrapped=(aws cdk ...)   the commands to wrap (from `op-aws list`)
#   __op_aws_op_plugins=PATH         1Password's plugins.sh, if it aliases some of them
#   __op_aws_op_aliased=(aws ...)    those it aliases
#   __op_aws_op_rc=PATH              the rc file that sources it, if known
# shellcheck shell=bash
# shellcheck disable=SC2154 # the __op_aws_ variables above are set by the prelude.

# Include guard: sourcing this twice defines nothing twice.
if [[ -z "${__op_aws_loaded-}" ]]; then
    __op_aws_loaded=1
    # For `op-aws inspect` and `doctor`: the integration is loaded in this shell.
    export OP_AWS_SHELL=bash

    # The cd hook. The key is compared in the shell, so a plain Enter spawns nothing; only a
    # new directory, session item or profile runs `op-aws hook-env` (one process).
    __op_aws_hook() {
        \builtin local __op_aws_status=$?
        # Once, at the first prompt: aliases made after this file was sourced.
        if [[ -n "${__op_aws_alias_recheck-}" ]]; then
            __op_aws_alias_recheck=
            __op_aws_warn_aliases
        fi
        \builtin local __op_aws_key="${PWD}|${OP_AWS_SESSION_ITEM-}|${AWS_PROFILE-}"
        if [[ "${__op_aws_state-}" != "${__op_aws_key}" ]]; then
            __op_aws_state=${__op_aws_key}
            \builtin local __op_aws_env
            # A failing hook-env has said why on stderr; the prompt goes on.
            __op_aws_env="$(\command op-aws hook-env --shell bash)" || :
            \builtin eval -- "${__op_aws_env}"
        fi
        \builtin return "${__op_aws_status}"
    }

    # `op-aws use` and `op-aws clear` change this shell: the binary prints the statements
    # (with __OP_AWS_SHELL set) and we evaluate them. Everything else passes through.
    function op-aws {
        \builtin local __op_aws_rc=0 __op_aws_out __op_aws_arg
        case "${1-}" in
            use | clear)
                for __op_aws_arg in "$@"; do
                    case "${__op_aws_arg}" in
                        -h | --help)
                            \command op-aws "$@"
                            \builtin return
                            ;;
                        *) ;;
                    esac
                done
                __op_aws_out="$(__OP_AWS_SHELL=bash \command op-aws "$@")" || __op_aws_rc=$?
                if [[ "${__op_aws_rc}" -eq 0 ]]; then
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
                __op_aws_state=
                __op_aws_hook
                ;;
            *) ;;
        esac
        \builtin return "${__op_aws_rc}"
    }

    # One function per wrapped command. `function NAME` is never alias-expanded, and the
    # names were checked by op-aws (letters, digits, - _ .), so the eval is safe.
    for __op_aws_cmd in "${__op_aws_wrapped[@]}"; do
        \builtin eval "function ${__op_aws_cmd} { \\command op-aws run -- ${__op_aws_cmd} \"\$@\"; }"
    done
    \builtin unset __op_aws_cmd

    # bash runs an alias before any function of the same name, so 1Password's plugins.sh
    # (`alias aws="op plugin run -- aws"`) silently takes `aws` away from op-aws. Say so, once
    # per name, on stderr; the alias stays: it is the user's, and the hint says how to drop it.
    __op_aws_warn_aliases() {
        \builtin shopt -q expand_aliases || \builtin return 0
        \builtin local __op_aws_c __op_aws_from __op_aws_names='' __op_aws_theirs=''
        for __op_aws_c in "${__op_aws_wrapped[@]}"; do
            \builtin alias -- "${__op_aws_c}" >/dev/null 2>&1 || continue
            [[ " ${__op_aws_alias_warned-} " != *" ${__op_aws_c} "* ]] || continue
            __op_aws_alias_warned="${__op_aws_alias_warned-} ${__op_aws_c}"
            __op_aws_names+=" ${__op_aws_c}"
            __op_aws_from=''
            if [[ -n "${__op_aws_op_plugins}" && " ${__op_aws_op_aliased[*]-} " == *" ${__op_aws_c} "* ]]; then
                __op_aws_from=", set by ${__op_aws_op_plugins}"
                __op_aws_theirs=1
            fi
            # shellcheck disable=SC2016 # the backquotes are text.
            \builtin printf 'op-aws: warning: `%s` is an alias (for `%s`%s), and bash runs an alias before any function: `%s` bypasses op-aws\n' \
                "${__op_aws_c}" "${BASH_ALIASES[${__op_aws_c}]-}" "${__op_aws_from}" "${__op_aws_c}" >&2
        done
        [[ -n "${__op_aws_names}" ]] || \builtin return 0
        if [[ -n "${__op_aws_theirs}" ]]; then
            # shellcheck disable=SC2016 # the backquotes are text.
            \builtin printf 'hint: remove `source %s` from %s (`op-aws import --from-1password-plugin` brings its defaults over), or run `unalias%s`\n' \
                "${__op_aws_op_plugins}" "${__op_aws_op_rc:-your shell startup file}" "${__op_aws_names}" >&2
        else
            # shellcheck disable=SC2016 # the backquotes are text.
            \builtin printf 'hint: remove the alias from your shell startup files, or run `unalias%s`\n' "${__op_aws_names}" >&2
        fi
    }

    # aws --profile <TAB> (and --profile=<TAB>) from `op-aws profiles`; anything else goes to
    # the AWS CLI's own completer when it is installed.
    __op_aws_complete_aws() {
        \builtin local cur="${COMP_WORDS[COMP_CWORD]}" prev="" prev2=""
        if ((COMP_CWORD > 0)); then prev="${COMP_WORDS[COMP_CWORD - 1]}"; fi
        if ((COMP_CWORD > 1)); then prev2="${COMP_WORDS[COMP_CWORD - 2]}"; fi
        # COMP_WORDBREAKS splits --profile=dev into "--profile" "=" "dev".
        if [[ "${cur}" == "=" && "${prev}" == "--profile" ]]; then
            cur=""
            prev="--profile"
        elif [[ "${prev}" == "=" && "${prev2}" == "--profile" ]]; then
            prev="--profile"
        fi
        if [[ "${prev}" == "--profile" ]]; then
            # Matched and quoted here, not by `compgen -W`, which expands its word list: a
            # profile name is data, and goes on the command line as one quoted word.
            \builtin local name quoted
            COMPREPLY=()
            while IFS= \builtin read -r name; do
                if [[ -n "${name}" && "${name}" == "${cur}"* ]]; then
                    \builtin printf -v quoted '%q' "${name}"
                    COMPREPLY+=("${quoted}")
                fi
            done < <(\command op-aws profiles 2>/dev/null || :)
            return 0
        fi
        if \builtin type -P aws_completer >/dev/null 2>&1; then
            \builtin local IFS=$'\n'
            # shellcheck disable=SC2207 # aws_completer prints one candidate per line.
            COMPREPLY=($(COMP_LINE="${COMP_LINE}" COMP_POINT="${COMP_POINT}" \command aws_completer))
            return 0
        fi
        COMPREPLY=()
    }
    \builtin complete -o default -F __op_aws_complete_aws aws

    # (No AWS_PROFILE=<TAB>: bash completes the value of an assignment as a file name and
    # offers no hook for it, not even `complete -I`.)

    # Run the hook before every prompt (prepended, so prompts that show $? still see the
    # command's status), in whichever form PROMPT_COMMAND takes here (array since bash 5.1).
    if [[ "$(\builtin declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
        if [[ " ${PROMPT_COMMAND[*]} " != *" __op_aws_hook "* ]]; then
            PROMPT_COMMAND=(__op_aws_hook "${PROMPT_COMMAND[@]}")
        fi
    elif [[ ";${PROMPT_COMMAND-};" != *";__op_aws_hook;"* ]]; then
        # shellcheck disable=SC2128,SC2178 # the string form, as the test above established.
        PROMPT_COMMAND="__op_aws_hook${PROMPT_COMMAND:+;${PROMPT_COMMAND}}"
    fi

    # The state here right away, for scripts that source this and never show a prompt.
    __op_aws_warn_aliases
    __op_aws_hook
    __op_aws_alias_recheck=1
fi
