# op-aws for nushell (0.115.x): the cd hook, an `op-aws` command whose `use` and `clear` change
# this shell, and wrappers for the wrapped commands (`aws --profile <TAB>` completes profiles).
#
# One of:
#   mkdir ($nu.data-dir | path join vendor/autoload); op-aws activate nu | save -f ($nu.data-dir | path join vendor/autoload/op-aws.nu)
#   op-aws activate nu | save -f ~/.config/nushell/op-aws.nu   # config.nu: use op-aws.nu *
#                                                               #       or: source op-aws.nu
# It works without the plugin; with it (`plugin add nu_plugin_op_aws`), the plugin's structured
# subcommands (`op-aws use`, `op-aws inspect`, ...) win over the `op-aws` wrapper below, since nu
# picks the longest command name. `op-aws activate nu` appends one wrapper per wrapped command.

# Applies what `op-aws use|clear` (run with __OP_AWS_SHELL=nu) and `op-aws hook-env --shell nu`
# print: JSON records, one per line; a null value means hide-env.
def --env __op_aws_apply [text: string] {
    for line in ($text | lines | where $it != "") {
        let rec = ($line | from json)
        let gone = ($rec | columns | where {|k| ($rec | get $k) == null })
        load-env ($rec | reject ...$gone)
        for k in $gone { hide-env -i $k }
    }
}

# The hook, run before each prompt and on each cd. It compares a key in nu first, so a plain
# Enter spawns nothing; a new directory, session item or profile runs `op-aws hook-env` once.
def --env __op_aws_hook [] {
    let key = $"($env.PWD)|($env.OP_AWS_SESSION_ITEM? | default '')|($env.AWS_PROFILE? | default '')"
    if ($env.__OP_AWS_STATE? | default '') == $key { return }
    $env.__OP_AWS_STATE = $key
    # A failing hook-env has said why on stderr; the prompt goes on.
    let out = try { ^op-aws hook-env --shell nu } catch { '' }
    __op_aws_apply $out
}

# Completion of profile names for the wrappers' --profile.
def "nu-complete op-aws profiles" [] {
    try { ^op-aws profiles | lines } catch { [] }
}

# The rest of `aws ...` completes through the AWS CLI's own completer, when it is installed
# (null: nu's default completion).
def "nu-complete aws" [context: string] {
    if (which aws_completer | is-empty) { return null }
    let point = ($context | str length | into string)
    with-env {COMP_LINE: $context, COMP_POINT: $point} { try { ^aws_completer | lines } catch { null } }
}

# What every wrapper runs: the command through `op-aws run`, with the profile given back.
def --env __op_aws_run [cmd: string, profile: any, rest: list<any>] {
    if $profile == null {
        ^op-aws run -- $cmd ...$rest
    } else {
        ^op-aws run --profile $profile -- $cmd ...$rest
    }
}

# A command named like its module cannot be exported from it (`use op-aws.nu` would refuse),
# so the `op-aws` wrapper lives in an inner module and is re-exported.
module __op_aws_command {
    # `op-aws use` and `op-aws clear` change this shell: the binary prints JSON records (with
    # __OP_AWS_SHELL=nu) and we apply them. Everything else passes through.
    export def --env --wrapped op-aws [...rest] {
        let sub = ($rest | get 0? | default '')
        let help = ($rest | any {|a| $a in ['-h' '--help'] })
        if $sub in ['use' 'clear' 'unlock' 'lock' 'init'] {
            # Defaults or the agent change: the next prompt recomputes what applies here.
            hide-env -i __OP_AWS_STATE
        }
        if $sub in ['use' 'clear'] and not $help {
            __op_aws_apply (with-env {__OP_AWS_SHELL: nu} { ^op-aws ...$rest })
        } else {
            # Last, so its output is this command's (it streams, and pipes into nu commands).
            ^op-aws ...$rest
        }
    }
}
export use __op_aws_command *

export-env {
    # For `op-aws inspect`, `status` and `doctor`: the integration is loaded in this shell.
    $env.OP_AWS_SHELL = 'nu'
    # Idempotent: loading this twice finds our marker key and adds nothing. `PWD? | default []`
    # because the default config has no PWD key (and `++=` on a missing one fails).
    let ours = {|hooks| $hooks | any {|h| ($h | describe) starts-with 'record' and ($h.__op_aws_hook? == true) } }
    let pwd = ($env.config.hooks.env_change.PWD? | default [])
    if not (do $ours $pwd) {
        $env.config.hooks.env_change.PWD = ($pwd | append {__op_aws_hook: true, code: {|_, _| __op_aws_hook }})
    }
    # Before each prompt too, for changes that are not a cd: the plugin's `op-aws use`,
    # `$env.AWS_PROFILE = ...` (the key check keeps it free when nothing changed).
    let pre = ($env.config.hooks.pre_prompt? | default [])
    if not (do $ours $pre) {
        $env.config.hooks.pre_prompt = ($pre | append {__op_aws_hook: true, code: {|| __op_aws_hook }})
    }
}
