# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_op_aws_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_op_aws_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_op_aws_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_op_aws_using_subcommand
    set -l cmd (__fish_op_aws_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c op-aws -n "__fish_op_aws_needs_command" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_needs_command" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_needs_command" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "init" -d 'Guided setup: vault, import of plaintext keys, an item, its scope, and the rc line'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "vault" -d 'Manage the local vault'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "unlock" -d 'Unlock the vault: the agent keeps it open until idle for --timeout (at most 12 hours)'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "lock" -d 'Forget every secret now: the agent exits'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "status" -d 'Locked or unlocked, the store, and the item and scope in effect here'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "item" -d 'Add, list, show, change and remove items in the local vault'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "import" -d 'Import plaintext keys from ~/.aws/credentials (or the environment) into the vault'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "rotate" -d 'Rotate an item\'s IAM access key: a new key, checked, stored, then the old one deleted'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "sso" -d 'IAM Identity Center: sign in once for every terminal and process; tokens kept encrypted'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "signin" -d 'Sign in with AWS Sign-In (`aws login`, console credentials): op-aws keeps the session encrypted, refreshes it for every process, and serves the profile (roles on top included)'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "use" -d 'Make ITEM the default: for this terminal (default), a directory and below, or everywhere'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "inspect" -d 'What applies here: wrapped commands, whether the shell integration is loaded, and every default with its scope, item and store. Never a secret'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "clear" -d 'Remove the default in effect here (session, then directory, then global); --all removes all'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "trust" -d 'Trust a repository\'s .op-aws.toml (by path and content): its default item and profiles apply in its directory and below until the file changes'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "untrust" -d 'Stop using a repository\'s .op-aws.toml'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "run" -d 'Run a command with the credentials in effect here, in its environment only'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "sandbox" -d 'Run an AI agent (or any program) with one capability to op-aws: a socket of its own, out of reach of op-aws\'s socket, vault, cache, approvals and audit log. Every credential request on it is this sandbox\'s agent\'s, under its policy'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "serve" -d 'Serve credentials on a loopback endpoint for IDEs and GUIs; prints the variables to set'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "login" -d 'Open the AWS console signed in as the item or profile in effect (or print the sign-in URL)'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "export" -d 'Print the credentials for a shell (or a program) to load'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "credential-process" -d 'For `credential_process = op-aws credential-process --profile P` in ~/.aws/config'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "activate" -d 'Print the shell integration: cd hook, wrapper functions, `aws --profile` completion'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "completions" -d 'Print the completion script for op-aws itself'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "profiles" -d 'The profile names from the AWS config and credentials files (and a trusted project file), one per line'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "list" -d 'The wrapped executables (set `wrap`/`wrap_extra` in config.toml to change them)'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "cache" -d 'See and flush cached temporary sessions (roles, MFA sessions). Never shows a secret'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "audit" -d 'Every release of credentials (and every refusal): when, to which caller (person or agent), which item, profile, role, session policy, expiry, and how it was approved'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "doctor" -d 'Check for plaintext keys, the shell integration, the agent, and the clock'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "setup" -d 'Set up what op-aws works with: `setup polkit` (quick unlock, as root), `setup claude-code`'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "hook-env" -d '[internal] What the shell integration\'s cd hook evaluates'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "agent" -d '[internal] The agent process, started by `op-aws unlock`'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "manpages" -d '[internal] Write the manual pages into DIR'
complete -c op-aws -n "__fish_op_aws_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand init" -l item -d 'The item to use (non-interactive with --scope)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand init" -l scope -d 'Where it applies' -r -f -a "session\t''
directory\t''
global\t''"
complete -c op-aws -n "__fish_op_aws_using_subcommand init" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand init" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand init" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and not __fish_seen_subcommand_from create passphrase rekey key help" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and not __fish_seen_subcommand_from create passphrase rekey key help" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and not __fish_seen_subcommand_from create passphrase rekey key help" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and not __fish_seen_subcommand_from create passphrase rekey key help" -f -a "create" -d 'Create the local vault (the passphrase is asked twice, or read from stdin)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and not __fish_seen_subcommand_from create passphrase rekey key help" -f -a "passphrase" -d 'Change the passphrase (the old one, then the new one twice; or two stdin lines)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and not __fish_seen_subcommand_from create passphrase rekey key help" -f -a "rekey" -d 'A new vault identity: the vault re-encrypted to it, cached sessions dropped, so a stolen copy of the old identity opens nothing new (the passphrase stays)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and not __fish_seen_subcommand_from create passphrase rekey key help" -f -a "key" -d 'Security keys, Touch ID, TPMs (age plugins) that unlock the vault without the passphrase'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and not __fish_seen_subcommand_from create passphrase rekey key help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from create" -l work-factor -d 'scrypt work factor (log2 N); the default takes about a second here. Lower only for throwaway vaults such as tests' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from create" -l passphrase-stdin -d 'Read the passphrase from the first line of stdin'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from passphrase" -l work-factor -r
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from passphrase" -l passphrase-stdin -d 'Read the current passphrase, then the new one, from two lines of stdin'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from passphrase" -l rekey -d 'Also make a new vault identity (as `vault rekey`), protected by the new passphrase'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from passphrase" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from passphrase" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from passphrase" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from rekey" -l work-factor -r
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from rekey" -l passphrase-stdin -d 'Read the passphrase from the first line of stdin'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from rekey" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from rekey" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from rekey" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from key" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from key" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from key" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from key" -f -a "add" -d 'Wrap the vault identity to an age plugin\'s recipient (asks for the passphrase)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from key" -f -a "list" -d 'The keys, in the order `unlock` tries them'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from key" -f -a "rm" -d 'Forget a key (its wrapped file is deleted)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from key" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create the local vault (the passphrase is asked twice, or read from stdin)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "passphrase" -d 'Change the passphrase (the old one, then the new one twice; or two stdin lines)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "rekey" -d 'A new vault identity: the vault re-encrypted to it, cached sessions dropped, so a stolen copy of the old identity opens nothing new (the passphrase stays)'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "key" -d 'Security keys, Touch ID, TPMs (age plugins) that unlock the vault without the passphrase'
complete -c op-aws -n "__fish_op_aws_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand unlock" -l timeout -d 'Forget everything after this long unused, e.g. 10m, 1h' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand unlock" -l passphrase-stdin -d 'Read the passphrase from the first line of stdin (no security key is tried)'
complete -c op-aws -n "__fish_op_aws_using_subcommand unlock" -l passphrase -d 'Ask for the passphrase without trying the security keys first'
complete -c op-aws -n "__fish_op_aws_using_subcommand unlock" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand unlock" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand unlock" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand lock" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand lock" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand lock" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand status" -l json
complete -c op-aws -n "__fish_op_aws_using_subcommand status" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand status" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand status" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and not __fish_seen_subcommand_from add list show edit rm help" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and not __fish_seen_subcommand_from add list show edit rm help" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and not __fish_seen_subcommand_from add list show edit rm help" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and not __fish_seen_subcommand_from add list show edit rm help" -f -a "add" -d 'Add an item: plain fields with --set, concealed ones with --set-secret'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and not __fish_seen_subcommand_from add list show edit rm help" -f -a "list" -d 'List the items'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and not __fish_seen_subcommand_from add list show edit rm help" -f -a "show" -d 'Show an item; concealed values are masked unless --reveal'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and not __fish_seen_subcommand_from add list show edit rm help" -f -a "edit" -d 'Change an item'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and not __fish_seen_subcommand_from add list show edit rm help" -f -a "rm" -d 'Remove an item'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and not __fish_seen_subcommand_from add list show edit rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from add" -l set -d 'A plain field, LABEL=VALUE (repeatable)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from add" -l set-secret -d 'A concealed field, read hidden from the terminal or, one line per flag, from stdin' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from list" -l json
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from show" -l json
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from show" -l reveal -d 'Print concealed values too'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from edit" -l set -r
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from edit" -l set-secret -r
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from edit" -l rename -d 'Rename a field, OLD=NEW (repeatable)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from edit" -l unset -d 'Remove a field (repeatable)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from edit" -l title -d 'Rename the item itself' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from edit" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from edit" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add an item: plain fields with --set, concealed ones with --set-secret'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the items'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show an item; concealed values are masked unless --reveal'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from help" -f -a "edit" -d 'Change an item'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove an item'
complete -c op-aws -n "__fish_op_aws_using_subcommand item; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -l profile -d 'A profile to import (repeatable)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -l name -d 'The item\'s name, for a single profile (default: the profile\'s name)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -l from-1password-plugin -d 'Turn the 1Password shell plugin\'s defaults into op-aws defaults naming the same items: its global default, and each DIR/.op/plugins/aws.json at or below DIR (default: your home). 1Password\'s files are left as they are' -r -F
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -l store -d '[hidden] Where to put the items: local or 1password (default: the configured store)' -r -f -a "local\t''
1password\t''"
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -l all -d 'Every profile with keys in the credentials file'
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -l from-env -d 'Import AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the environment'
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -l remove-plaintext -d 'Then delete exactly the imported key lines from the credentials file'
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -s y -l yes -d 'Do not ask before removing key lines or replacing a default'
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -l login -d 'Adopt `aws login` sessions: each login_session profile\'s entry in the AWS CLI\'s cache (~/.aws/login/cache, or AWS_LOGIN_CACHE_DIRECTORY) is kept encrypted by op-aws and the plaintext file removed; with --profile, that profile\'s alone'
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand import" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand rotate" -s y -l yes -d 'Do not ask first'
complete -c op-aws -n "__fish_op_aws_using_subcommand rotate" -l resume -d 'Finish a rotation that stopped half-way'
complete -c op-aws -n "__fish_op_aws_using_subcommand rotate" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand rotate" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand rotate" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and not __fish_seen_subcommand_from login logout status populate help" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and not __fish_seen_subcommand_from login logout status populate help" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and not __fish_seen_subcommand_from login logout status populate help" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and not __fish_seen_subcommand_from login logout status populate help" -f -a "login" -d 'Sign in with the device flow: prints the address and code, opens the browser'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and not __fish_seen_subcommand_from login logout status populate help" -f -a "logout" -d 'Forget the session\'s tokens (and the role sessions they gave)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and not __fish_seen_subcommand_from login logout status populate help" -f -a "status" -d 'The sessions op-aws holds tokens for: expiry, whether it can refresh. Never a token'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and not __fish_seen_subcommand_from login logout status populate help" -f -a "populate" -d 'Write one profile per account and role into a marked block of the AWS config'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and not __fish_seen_subcommand_from login logout status populate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from login" -l profile -d 'The profile whose SSO session to use (default: AWS_PROFILE)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from login" -l sso-session -d 'An [sso-session NAME] of the AWS config' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from login" -l no-browser -d 'Only print the address and code (the device flow: the browser may be anywhere)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from login" -l use-device-code -d 'The device flow (a code to check in any browser), not the authorization code that brings a browser on this machine back to 127.0.0.1; for SSH, WSL, a browser elsewhere'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from login" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from login" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from login" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from logout" -l profile -d 'The profile whose SSO session to use (default: AWS_PROFILE)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from logout" -l sso-session -d 'An [sso-session NAME] of the AWS config' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from logout" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from logout" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from logout" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from status" -l json
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from populate" -l sso-session -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from populate" -l prefix -d 'Put before each profile name (default: the session\'s name and a dash)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from populate" -l region -d 'The profiles\' region (default: the session\'s sso_region)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from populate" -l dry-run -d 'Print the change as a diff; write nothing'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from populate" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from populate" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from populate" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "login" -d 'Sign in with the device flow: prints the address and code, opens the browser'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "logout" -d 'Forget the session\'s tokens (and the role sessions they gave)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "status" -d 'The sessions op-aws holds tokens for: expiry, whether it can refresh. Never a token'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "populate" -d 'Write one profile per account and role into a marked block of the AWS config'
complete -c op-aws -n "__fish_op_aws_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand signin" -l profile -d 'The profile to sign in; written to the AWS config as its login_session (default: AWS_PROFILE, else default)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand signin" -l region -d 'The region to sign in to (default: the profile\'s region, else us-east-1)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand signin" -l remote -d 'No browser on this machine (SSH): print the address to open on any device, then read the code the page shows'
complete -c op-aws -n "__fish_op_aws_using_subcommand signin" -l logout -d 'Forget the profile\'s session (its refresh token and key, and the role sessions made on it) instead of signing in'
complete -c op-aws -n "__fish_op_aws_using_subcommand signin" -l list -d 'The sessions op-aws holds: expiry, whether it can refresh. Never a token'
complete -c op-aws -n "__fish_op_aws_using_subcommand signin" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand signin" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand signin" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand use" -l directory -d 'DIR (default: the current directory) and everything below it' -r -F
complete -c op-aws -n "__fish_op_aws_using_subcommand use" -l session -d 'This terminal only (the default); needs the shell integration'
complete -c op-aws -n "__fish_op_aws_using_subcommand use" -l global -d 'Everywhere'
complete -c op-aws -n "__fish_op_aws_using_subcommand use" -l export -d 'With --directory: export the keys into the shell while inside it (for unwrapped tools)'
complete -c op-aws -n "__fish_op_aws_using_subcommand use" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand use" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand use" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand inspect" -l json
complete -c op-aws -n "__fish_op_aws_using_subcommand inspect" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand clear" -l all -d 'Remove every default that applies here'
complete -c op-aws -n "__fish_op_aws_using_subcommand clear" -s f -l force -d 'Do not ask'
complete -c op-aws -n "__fish_op_aws_using_subcommand clear" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand clear" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand clear" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand trust" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand trust" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand trust" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand untrust" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand untrust" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand untrust" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -l item -d 'Use this item, whatever the defaults say (a name in the vault, or op://Vault/Item)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -l profile -d 'Use this profile from the AWS config: its role, MFA, region and op_aws_item apply (default: AWS_PROFILE)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -l allow -d 'With --keyless: only these calls (SERVICE or SERVICE:ACTION, `*` at the end matches any rest; repeatable), e.g. `--allow s3:Get* --allow sts:GetCallerIdentity`' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -l allow-region -d 'With --keyless: only calls to this region (repeatable)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -l policy-arn -d 'A managed policy the session is limited to (repeatable)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -l policy -d 'An inline session policy (a JSON file) the session is limited to' -r -F
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -l server -d 'Serve the credentials from a loopback endpoint (refreshed as they run out) instead of putting keys in the command\'s environment; the default with `server = true` in config.toml'
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -l no-server -d 'Keys in the environment, even with `server = true` in config.toml'
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -l keyless -d 'No credential that works: the command gets a placeholder key and a loopback proxy as its AWS endpoint, which checks each request against the run\'s policy and re-signs it with the real session'
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -l read-only -d 'A read-only session: AWS\'s ReadOnlyAccess as its session policy'
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand run" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -l name -d 'The agent\'s name in the audit trail, session names and tags (default: CMD\'s name)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -l agents -d 'The agents\' policy for it: allow, approve, read-only or deny (it only tightens what the profile, item and config.toml say)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -l item -d 'An item it may use (repeatable; default: any the defaults pick)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -l profile -d 'A profile it may use (repeatable; the first is its default)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -l policy-arn -d 'A managed policy every session it gets is limited to (repeatable)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -l no-isolation -d 'No namespaces: the capability only (the program can still read op-aws\'s files)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -l keyless -d 'No credential that works inside: the program gets a placeholder key and a loopback proxy as its AWS endpoint, which re-signs each request it allows with the sandbox\'s session; the capability stays with op-aws, outside'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -a "list" -d 'The open sandboxes: name, policy, items, profiles, requests served and refused'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -a "stop" -d 'Close a sandbox\'s capability at once and forget the sessions issued to it'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and not __fish_seen_subcommand_from list stop help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from list" -l json
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from stop" -l revoke -d 'Also end its sessions at AWS: an inline deny on each role they assumed, for sessions tagged with this agent and issued before now (needs iam:PutRolePolicy)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from stop" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from help" -f -a "list" -d 'The open sandboxes: name, policy, items, profiles, requests served and refused'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Close a sandbox\'s capability at once and forget the sessions issued to it'
complete -c op-aws -n "__fish_op_aws_using_subcommand sandbox; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand serve" -l item -d 'Use this item, whatever the defaults say (a name in the vault, or op://Vault/Item)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand serve" -l profile -d 'Use this profile from the AWS config: its role, MFA, region and op_aws_item apply (default: AWS_PROFILE)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand serve" -l format -r -f -a "sh\t''
fish\t''
nu\t''
json\t''
powershell\t''"
complete -c op-aws -n "__fish_op_aws_using_subcommand serve" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand serve" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand serve" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand login" -l item -d 'The item to use, as `op-aws run --item`' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand login" -l profile -d 'The profile whose credentials sign in, as `op-aws run --profile` (default: AWS_PROFILE)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand login" -l duration -d 'How long the console session lasts: 15m to 12h (36h with an IAM user\'s own keys)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand login" -l region -d 'The console\'s region (default: the region `op-aws run` would use, else us-east-1)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand login" -l path -d 'The console page to open, e.g. `s3/home` or `cloudwatch/home#logsV2:` (default: home)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand login" -l print -d 'Print the sign-in URL (good for about 15 minutes) instead of opening a browser'
complete -c op-aws -n "__fish_op_aws_using_subcommand login" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand login" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand login" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand export" -l item -d 'Use this item, whatever the defaults say (a name in the vault, or op://Vault/Item)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand export" -l profile -d 'Use this profile from the AWS config: its role, MFA, region and op_aws_item apply (default: AWS_PROFILE)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand export" -l format -r -f -a "sh\t''
fish\t''
nu\t''
json\t''
powershell\t''"
complete -c op-aws -n "__fish_op_aws_using_subcommand export" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand export" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand export" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand credential-process" -l item -d 'Use this item, whatever the defaults say (a name in the vault, or op://Vault/Item)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand credential-process" -l profile -d 'Use this profile from the AWS config: its role, MFA, region and op_aws_item apply (default: AWS_PROFILE)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand credential-process" -l format -d '`aws` (the credential_process JSON) or `claude-code` (Claude Code\'s awsCredentialExport: {"Credentials": {...}})' -r -f -a "aws\t''
claude-code\t''"
complete -c op-aws -n "__fish_op_aws_using_subcommand credential-process" -l bedrock -d 'A session for a harness\'s own model calls on Amazon Bedrock: its session policy allows only bedrock:InvokeModel* (and listing inference profiles), for a read-only agent too'
complete -c op-aws -n "__fish_op_aws_using_subcommand credential-process" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand credential-process" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand credential-process" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand activate" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand activate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c op-aws -n "__fish_op_aws_using_subcommand activate" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand completions" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand completions" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand completions" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand profiles" -l json -d 'With region, role and bound item'
complete -c op-aws -n "__fish_op_aws_using_subcommand profiles" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand profiles" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand profiles" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand list" -l json
complete -c op-aws -n "__fish_op_aws_using_subcommand list" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand list" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand list" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and not __fish_seen_subcommand_from list clear help" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and not __fish_seen_subcommand_from list clear help" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and not __fish_seen_subcommand_from list clear help" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and not __fish_seen_subcommand_from list clear help" -f -a "list" -d 'The cached sessions: profile, role, item and expiry'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and not __fish_seen_subcommand_from list clear help" -f -a "clear" -d 'Forget cached sessions, so the next command asks STS again'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and not __fish_seen_subcommand_from list clear help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from list" -l json
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from clear" -l profile -d 'Only this profile\'s sessions' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from clear" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from clear" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from clear" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "list" -d 'The cached sessions: profile, role, item and expiry'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "clear" -d 'Forget cached sessions, so the next command asks STS again'
complete -c op-aws -n "__fish_op_aws_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand audit" -l since -d 'Only entries this recent: a duration ("1h", "2d") or a time (RFC 3339)' -r
complete -c op-aws -n "__fish_op_aws_using_subcommand audit" -l agent -d 'Only releases to (and refusals of) AI coding agents'
complete -c op-aws -n "__fish_op_aws_using_subcommand audit" -l json -d 'One JSON object per entry, as the log holds them'
complete -c op-aws -n "__fish_op_aws_using_subcommand audit" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand audit" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand audit" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand doctor" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and not __fish_seen_subcommand_from polkit claude-code help" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and not __fish_seen_subcommand_from polkit claude-code help" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and not __fish_seen_subcommand_from polkit claude-code help" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and not __fish_seen_subcommand_from polkit claude-code help" -f -a "polkit" -d 'Install polkit\'s action for quick unlock (as root)'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and not __fish_seen_subcommand_from polkit claude-code help" -f -a "claude-code" -d 'Wire Claude Code to op-aws: its sandbox reaches `op-aws sandbox`\'s capability and the AWS APIs, its Bedrock calls get a Bedrock-only session (awsCredentialExport)'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and not __fish_seen_subcommand_from polkit claude-code help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and __fish_seen_subcommand_from polkit" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and __fish_seen_subcommand_from polkit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and __fish_seen_subcommand_from polkit" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -l user -d 'The user\'s settings (~/.claude/settings.json) instead of this project\'s'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "polkit" -d 'Install polkit\'s action for quick unlock (as root)'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "claude-code" -d 'Wire Claude Code to op-aws: its sandbox reaches `op-aws sandbox`\'s capability and the AWS APIs, its Bedrock calls get a Bedrock-only session (awsCredentialExport)'
complete -c op-aws -n "__fish_op_aws_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand hook-env" -l shell -r -f -a "bash\t''
zsh\t''
fish\t''
nu\t''"
complete -c op-aws -n "__fish_op_aws_using_subcommand hook-env" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand hook-env" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand hook-env" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand agent" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand agent" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand agent" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand manpages" -s q -l quiet -d 'Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)'
complete -c op-aws -n "__fish_op_aws_using_subcommand manpages" -s h -l help -d 'Print help'
complete -c op-aws -n "__fish_op_aws_using_subcommand manpages" -s V -l version -d 'Print version'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "init" -d 'Guided setup: vault, import of plaintext keys, an item, its scope, and the rc line'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "vault" -d 'Manage the local vault'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "unlock" -d 'Unlock the vault: the agent keeps it open until idle for --timeout (at most 12 hours)'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "lock" -d 'Forget every secret now: the agent exits'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "status" -d 'Locked or unlocked, the store, and the item and scope in effect here'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "item" -d 'Add, list, show, change and remove items in the local vault'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "import" -d 'Import plaintext keys from ~/.aws/credentials (or the environment) into the vault'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "rotate" -d 'Rotate an item\'s IAM access key: a new key, checked, stored, then the old one deleted'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "sso" -d 'IAM Identity Center: sign in once for every terminal and process; tokens kept encrypted'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "signin" -d 'Sign in with AWS Sign-In (`aws login`, console credentials): op-aws keeps the session encrypted, refreshes it for every process, and serves the profile (roles on top included)'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "use" -d 'Make ITEM the default: for this terminal (default), a directory and below, or everywhere'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "inspect" -d 'What applies here: wrapped commands, whether the shell integration is loaded, and every default with its scope, item and store. Never a secret'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "clear" -d 'Remove the default in effect here (session, then directory, then global); --all removes all'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "trust" -d 'Trust a repository\'s .op-aws.toml (by path and content): its default item and profiles apply in its directory and below until the file changes'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "untrust" -d 'Stop using a repository\'s .op-aws.toml'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "run" -d 'Run a command with the credentials in effect here, in its environment only'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "sandbox" -d 'Run an AI agent (or any program) with one capability to op-aws: a socket of its own, out of reach of op-aws\'s socket, vault, cache, approvals and audit log. Every credential request on it is this sandbox\'s agent\'s, under its policy'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "serve" -d 'Serve credentials on a loopback endpoint for IDEs and GUIs; prints the variables to set'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "login" -d 'Open the AWS console signed in as the item or profile in effect (or print the sign-in URL)'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "export" -d 'Print the credentials for a shell (or a program) to load'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "credential-process" -d 'For `credential_process = op-aws credential-process --profile P` in ~/.aws/config'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "activate" -d 'Print the shell integration: cd hook, wrapper functions, `aws --profile` completion'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "completions" -d 'Print the completion script for op-aws itself'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "profiles" -d 'The profile names from the AWS config and credentials files (and a trusted project file), one per line'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "list" -d 'The wrapped executables (set `wrap`/`wrap_extra` in config.toml to change them)'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "cache" -d 'See and flush cached temporary sessions (roles, MFA sessions). Never shows a secret'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "audit" -d 'Every release of credentials (and every refusal): when, to which caller (person or agent), which item, profile, role, session policy, expiry, and how it was approved'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "doctor" -d 'Check for plaintext keys, the shell integration, the agent, and the clock'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "setup" -d 'Set up what op-aws works with: `setup polkit` (quick unlock, as root), `setup claude-code`'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "hook-env" -d '[internal] What the shell integration\'s cd hook evaluates'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "agent" -d '[internal] The agent process, started by `op-aws unlock`'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "manpages" -d '[internal] Write the manual pages into DIR'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and not __fish_seen_subcommand_from init vault unlock lock status item import rotate sso signin use inspect clear trust untrust run sandbox serve login export credential-process activate completions profiles list cache audit doctor setup hook-env agent manpages help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "create" -d 'Create the local vault (the passphrase is asked twice, or read from stdin)'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "passphrase" -d 'Change the passphrase (the old one, then the new one twice; or two stdin lines)'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "rekey" -d 'A new vault identity: the vault re-encrypted to it, cached sessions dropped, so a stolen copy of the old identity opens nothing new (the passphrase stays)'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "key" -d 'Security keys, Touch ID, TPMs (age plugins) that unlock the vault without the passphrase'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from item" -f -a "add" -d 'Add an item: plain fields with --set, concealed ones with --set-secret'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from item" -f -a "list" -d 'List the items'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from item" -f -a "show" -d 'Show an item; concealed values are masked unless --reveal'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from item" -f -a "edit" -d 'Change an item'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from item" -f -a "rm" -d 'Remove an item'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from sso" -f -a "login" -d 'Sign in with the device flow: prints the address and code, opens the browser'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from sso" -f -a "logout" -d 'Forget the session\'s tokens (and the role sessions they gave)'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from sso" -f -a "status" -d 'The sessions op-aws holds tokens for: expiry, whether it can refresh. Never a token'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from sso" -f -a "populate" -d 'Write one profile per account and role into a marked block of the AWS config'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from sandbox" -f -a "list" -d 'The open sandboxes: name, policy, items, profiles, requests served and refused'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from sandbox" -f -a "stop" -d 'Close a sandbox\'s capability at once and forget the sessions issued to it'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "list" -d 'The cached sessions: profile, role, item and expiry'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "clear" -d 'Forget cached sessions, so the next command asks STS again'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "polkit" -d 'Install polkit\'s action for quick unlock (as root)'
complete -c op-aws -n "__fish_op_aws_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "claude-code" -d 'Wire Claude Code to op-aws: its sandbox reaches `op-aws sandbox`\'s capability and the AWS APIs, its Bedrock calls get a Bedrock-only session (awsCredentialExport)'
