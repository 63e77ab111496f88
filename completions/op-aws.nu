module completions {

  # AWS credentials from an encrypted vault (or 1Password), for one command at a time
  export extern op-aws [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  def "nu-complete op-aws init scope" [] {
    [ "session" "directory" "global" ]
  }

  # Guided setup: vault, import of plaintext keys, an item, its scope, and the rc line
  export extern "op-aws init" [
    --item: string            # The item to use (non-interactive with --scope)
    --scope: string@"nu-complete op-aws init scope" # Where it applies
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Manage the local vault
  export extern "op-aws vault" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Create the local vault (the passphrase is asked twice, or read from stdin)
  export extern "op-aws vault create" [
    --passphrase-stdin        # Read the passphrase from the first line of stdin
    --work-factor: string     # scrypt work factor (log2 N); the default takes about a second here. Lower only for throwaway vaults such as tests
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Change the passphrase (the old one, then the new one twice; or two stdin lines)
  export extern "op-aws vault passphrase" [
    --passphrase-stdin        # Read the current passphrase, then the new one, from two lines of stdin
    --rekey                   # Also make a new vault identity (as `vault rekey`), protected by the new passphrase
    --work-factor: string
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # A new vault identity: the vault re-encrypted to it, cached sessions dropped, so a stolen copy of the old identity opens nothing new (the passphrase stays)
  export extern "op-aws vault rekey" [
    --passphrase-stdin        # Read the passphrase from the first line of stdin
    --work-factor: string
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Security keys, Touch ID, TPMs (age plugins) that unlock the vault without the passphrase
  export extern "op-aws vault key" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Wrap the vault identity to an age plugin's recipient (asks for the passphrase)
  export extern "op-aws vault key add" [
    --recipient: string       # The plugin's recipient, e.g. age1yubikey1…
    --identity-file: path     # The identity file the plugin generated (it names the key; it is no secret)
    --name: string            # A label for the key (default: the plugin's name)
    --passphrase-stdin        # Read the passphrase from the first line of stdin
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # The keys, in the order `unlock` tries them
  export extern "op-aws vault key list" [
    --json
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Forget a key (its wrapped file is deleted)
  export extern "op-aws vault key rm" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    label: string
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws vault key help" [
  ]

  # Wrap the vault identity to an age plugin's recipient (asks for the passphrase)
  export extern "op-aws vault key help add" [
  ]

  # The keys, in the order `unlock` tries them
  export extern "op-aws vault key help list" [
  ]

  # Forget a key (its wrapped file is deleted)
  export extern "op-aws vault key help rm" [
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws vault key help help" [
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws vault help" [
  ]

  # Create the local vault (the passphrase is asked twice, or read from stdin)
  export extern "op-aws vault help create" [
  ]

  # Change the passphrase (the old one, then the new one twice; or two stdin lines)
  export extern "op-aws vault help passphrase" [
  ]

  # A new vault identity: the vault re-encrypted to it, cached sessions dropped, so a stolen copy of the old identity opens nothing new (the passphrase stays)
  export extern "op-aws vault help rekey" [
  ]

  # Security keys, Touch ID, TPMs (age plugins) that unlock the vault without the passphrase
  export extern "op-aws vault help key" [
  ]

  # Wrap the vault identity to an age plugin's recipient (asks for the passphrase)
  export extern "op-aws vault help key add" [
  ]

  # The keys, in the order `unlock` tries them
  export extern "op-aws vault help key list" [
  ]

  # Forget a key (its wrapped file is deleted)
  export extern "op-aws vault help key rm" [
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws vault help help" [
  ]

  # Unlock the vault: the agent keeps it open until idle for --timeout (at most 12 hours)
  export extern "op-aws unlock" [
    --passphrase-stdin        # Read the passphrase from the first line of stdin (no security key is tried)
    --passphrase              # Ask for the passphrase without trying the security keys first
    --timeout: string         # Forget everything after this long unused, e.g. 10m, 1h
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Forget every secret now: the agent exits
  export extern "op-aws lock" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Locked or unlocked, the store, and the item and scope in effect here
  export extern "op-aws status" [
    --json
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Add, list, show, change and remove items in the local vault
  export extern "op-aws item" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Add an item: plain fields with --set, concealed ones with --set-secret
  export extern "op-aws item add" [
    --set: string             # A plain field, LABEL=VALUE (repeatable)
    --set-secret: string      # A concealed field, read hidden from the terminal or, one line per flag, from stdin
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    name: string
  ]

  # List the items
  export extern "op-aws item list" [
    --json
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Show an item; concealed values are masked unless --reveal
  export extern "op-aws item show" [
    --json
    --reveal                  # Print concealed values too
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    name: string
  ]

  # Change an item
  export extern "op-aws item edit" [
    --set: string
    --set-secret: string
    --rename: string          # Rename a field, OLD=NEW (repeatable)
    --unset: string           # Remove a field (repeatable)
    --title: string           # Rename the item itself
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    name: string
  ]

  # Remove an item
  export extern "op-aws item rm" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    name: string
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws item help" [
  ]

  # Add an item: plain fields with --set, concealed ones with --set-secret
  export extern "op-aws item help add" [
  ]

  # List the items
  export extern "op-aws item help list" [
  ]

  # Show an item; concealed values are masked unless --reveal
  export extern "op-aws item help show" [
  ]

  # Change an item
  export extern "op-aws item help edit" [
  ]

  # Remove an item
  export extern "op-aws item help rm" [
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws item help help" [
  ]

  def "nu-complete op-aws import store" [] {
    [ "local" "1password" ]
  }

  # Import plaintext keys from ~/.aws/credentials (or the environment) into the vault
  export extern "op-aws import" [
    --profile: string         # A profile to import (repeatable)
    --all                     # Every profile with keys in the credentials file
    --from-env                # Import AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the environment
    --name: string            # The item's name, for a single profile (default: the profile's name)
    --remove-plaintext        # Then delete exactly the imported key lines from the credentials file
    --yes(-y)                 # Do not ask before removing key lines or replacing a default
    --from-1password-plugin: path # Turn the 1Password shell plugin's defaults into op-aws defaults naming the same items: its global default, and each DIR/.op/plugins/aws.json at or below DIR (default: your home). 1Password's files are left as they are
    --login                   # Adopt `aws login` sessions: each login_session profile's entry in the AWS CLI's cache (~/.aws/login/cache, or AWS_LOGIN_CACHE_DIRECTORY) is kept encrypted by op-aws and the plaintext file removed; with --profile, that profile's alone
    --store: string@"nu-complete op-aws import store" # [hidden] Where to put the items: local or 1password (default: the configured store)
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Rotate an item's IAM access key: a new key, checked, stored, then the old one deleted
  export extern "op-aws rotate" [
    --yes(-y)                 # Do not ask first
    --resume                  # Finish a rotation that stopped half-way
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    item?: string             # The item (default: the one in effect here)
  ]

  # IAM Identity Center: sign in once for every terminal and process; tokens kept encrypted
  export extern "op-aws sso" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Sign in with the device flow: prints the address and code, opens the browser
  export extern "op-aws sso login" [
    --profile: string         # The profile whose SSO session to use (default: AWS_PROFILE)
    --sso-session: string     # An [sso-session NAME] of the AWS config
    --no-browser              # Only print the address and code (the device flow: the browser may be anywhere)
    --use-device-code         # The device flow (a code to check in any browser), not the authorization code that brings a browser on this machine back to 127.0.0.1; for SSH, WSL, a browser elsewhere
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Forget the session's tokens (and the role sessions they gave)
  export extern "op-aws sso logout" [
    --profile: string         # The profile whose SSO session to use (default: AWS_PROFILE)
    --sso-session: string     # An [sso-session NAME] of the AWS config
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # The sessions op-aws holds tokens for: expiry, whether it can refresh. Never a token
  export extern "op-aws sso status" [
    --json
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Write one profile per account and role into a marked block of the AWS config
  export extern "op-aws sso populate" [
    --sso-session: string
    --prefix: string          # Put before each profile name (default: the session's name and a dash)
    --region: string          # The profiles' region (default: the session's sso_region)
    --dry-run                 # Print the change as a diff; write nothing
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws sso help" [
  ]

  # Sign in with the device flow: prints the address and code, opens the browser
  export extern "op-aws sso help login" [
  ]

  # Forget the session's tokens (and the role sessions they gave)
  export extern "op-aws sso help logout" [
  ]

  # The sessions op-aws holds tokens for: expiry, whether it can refresh. Never a token
  export extern "op-aws sso help status" [
  ]

  # Write one profile per account and role into a marked block of the AWS config
  export extern "op-aws sso help populate" [
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws sso help help" [
  ]

  # Sign in with AWS Sign-In (`aws login`, console credentials): op-aws keeps the session encrypted, refreshes it for every process, and serves the profile (roles on top included)
  export extern "op-aws signin" [
    --profile: string         # The profile to sign in; written to the AWS config as its login_session (default: AWS_PROFILE, else default)
    --region: string          # The region to sign in to (default: the profile's region, else us-east-1)
    --remote                  # No browser on this machine (SSH): print the address to open on any device, then read the code the page shows
    --logout                  # Forget the profile's session (its refresh token and key, and the role sessions made on it) instead of signing in
    --list                    # The sessions op-aws holds: expiry, whether it can refresh. Never a token
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Make ITEM the default: for this terminal (default), a directory and below, or everywhere
  export extern "op-aws use" [
    --session                 # This terminal only (the default); needs the shell integration
    --directory: path         # DIR (default: the current directory) and everything below it
    --global                  # Everywhere
    --export                  # With --directory: export the keys into the shell while inside it (for unwrapped tools)
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    item: string              # The item (a name in the vault, or op://Vault/Item)
  ]

  # What applies here: wrapped commands, whether the shell integration is loaded, and every default with its scope, item and store. Never a secret
  export extern "op-aws inspect" [
    --json
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Remove the default in effect here (session, then directory, then global); --all removes all
  export extern "op-aws clear" [
    --all                     # Remove every default that applies here
    --force(-f)               # Do not ask
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Trust a repository's .op-aws.toml (by path and content): its default item and profiles apply in its directory and below until the file changes
  export extern "op-aws trust" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    dir?: path                # The directory holding .op-aws.toml (default: the nearest one here or above)
  ]

  # Stop using a repository's .op-aws.toml
  export extern "op-aws untrust" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    dir?: path                # The directory holding .op-aws.toml (default: the nearest one here or above)
  ]

  # Run a command with the credentials in effect here, in its environment only
  export extern "op-aws run" [
    --item: string            # Use this item, whatever the defaults say (a name in the vault, or op://Vault/Item)
    --profile: string         # Use this profile from the AWS config: its role, MFA, region and op_aws_item apply (default: AWS_PROFILE)
    --server                  # Serve the credentials from a loopback endpoint (refreshed as they run out) instead of putting keys in the command's environment; the default with `server = true` in config.toml
    --no-server               # Keys in the environment, even with `server = true` in config.toml
    --keyless                 # No credential that works: the command gets a placeholder key and a loopback proxy as its AWS endpoint, which checks each request against the run's policy and re-signs it with the real session
    --allow: string           # With --keyless: only these calls (SERVICE or SERVICE:ACTION, `*` at the end matches any rest; repeatable), e.g. `--allow s3:Get* --allow sts:GetCallerIdentity`
    --allow-region: string    # With --keyless: only calls to this region (repeatable)
    --read-only               # A read-only session: AWS's ReadOnlyAccess as its session policy
    --policy-arn: string      # A managed policy the session is limited to (repeatable)
    --policy: path            # An inline session policy (a JSON file) the session is limited to
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    ...command: string        # The command and its arguments (after `--`)
  ]

  # Run an AI agent (or any program) with one capability to op-aws: a socket of its own, out of reach of op-aws's socket, vault, cache, approvals and audit log. Every credential request on it is this sandbox's agent's, under its policy
  export extern "op-aws sandbox" [
    --name: string            # The agent's name in the audit trail, session names and tags (default: CMD's name)
    --agents: string          # The agents' policy for it: allow, approve, read-only or deny (it only tightens what the profile, item and config.toml say)
    --item: string            # An item it may use (repeatable; default: any the defaults pick)
    --profile: string         # A profile it may use (repeatable; the first is its default)
    --policy-arn: string      # A managed policy every session it gets is limited to (repeatable)
    --no-isolation            # No namespaces: the capability only (the program can still read op-aws's files)
    --keyless                 # No credential that works inside: the program gets a placeholder key and a loopback proxy as its AWS endpoint, which re-signs each request it allows with the sandbox's session; the capability stays with op-aws, outside
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    ...command: string        # The command and its arguments (after `--`)
  ]

  # The open sandboxes: name, policy, items, profiles, requests served and refused
  export extern "op-aws sandbox list" [
    --json
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Close a sandbox's capability at once and forget the sessions issued to it
  export extern "op-aws sandbox stop" [
    --revoke                  # Also end its sessions at AWS: an inline deny on each role they assumed, for sessions tagged with this agent and issued before now (needs iam:PutRolePolicy)
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    name: string
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws sandbox help" [
  ]

  # The open sandboxes: name, policy, items, profiles, requests served and refused
  export extern "op-aws sandbox help list" [
  ]

  # Close a sandbox's capability at once and forget the sessions issued to it
  export extern "op-aws sandbox help stop" [
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws sandbox help help" [
  ]

  def "nu-complete op-aws serve format" [] {
    [ "sh" "fish" "nu" "json" "powershell" ]
  }

  # Serve credentials on a loopback endpoint for IDEs and GUIs; prints the variables to set
  export extern "op-aws serve" [
    --item: string            # Use this item, whatever the defaults say (a name in the vault, or op://Vault/Item)
    --profile: string         # Use this profile from the AWS config: its role, MFA, region and op_aws_item apply (default: AWS_PROFILE)
    --format: string@"nu-complete op-aws serve format"
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Open the AWS console signed in as the item or profile in effect (or print the sign-in URL)
  export extern "op-aws login" [
    --item: string            # The item to use, as `op-aws run --item`
    --profile: string         # The profile whose credentials sign in, as `op-aws run --profile` (default: AWS_PROFILE)
    --print                   # Print the sign-in URL (good for about 15 minutes) instead of opening a browser
    --duration: string        # How long the console session lasts: 15m to 12h (36h with an IAM user's own keys)
    --region: string          # The console's region (default: the region `op-aws run` would use, else us-east-1)
    --path: string            # The console page to open, e.g. `s3/home` or `cloudwatch/home#logsV2:` (default: home)
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  def "nu-complete op-aws export format" [] {
    [ "sh" "fish" "nu" "json" "powershell" ]
  }

  # Print the credentials for a shell (or a program) to load
  export extern "op-aws export" [
    --item: string            # Use this item, whatever the defaults say (a name in the vault, or op://Vault/Item)
    --profile: string         # Use this profile from the AWS config: its role, MFA, region and op_aws_item apply (default: AWS_PROFILE)
    --format: string@"nu-complete op-aws export format"
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  def "nu-complete op-aws credential-process format" [] {
    [ "aws" "claude-code" ]
  }

  # For `credential_process = op-aws credential-process --profile P` in ~/.aws/config
  export extern "op-aws credential-process" [
    --item: string            # Use this item, whatever the defaults say (a name in the vault, or op://Vault/Item)
    --profile: string         # Use this profile from the AWS config: its role, MFA, region and op_aws_item apply (default: AWS_PROFILE)
    --bedrock                 # A session for a harness's own model calls on Amazon Bedrock: its session policy allows only bedrock:InvokeModel* (and listing inference profiles), for a read-only agent too
    --format: string@"nu-complete op-aws credential-process format" # `aws` (the credential_process JSON) or `claude-code` (Claude Code's awsCredentialExport: {"Credentials": {...}})
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  def "nu-complete op-aws activate shell" [] {
    [ "bash" "zsh" "fish" "nu" ]
  }

  # Print the shell integration: cd hook, wrapper functions, `aws --profile` completion
  export extern "op-aws activate" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help (see more with '--help')
    --version(-V)             # Print version
    shell: string@"nu-complete op-aws activate shell"
  ]

  def "nu-complete op-aws completions shell" [] {
    [ "bash" "zsh" "fish" "nu" ]
  }

  # Print the completion script for op-aws itself
  export extern "op-aws completions" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    shell: string@"nu-complete op-aws completions shell"
  ]

  # The profile names from the AWS config and credentials files (and a trusted project file), one per line
  export extern "op-aws profiles" [
    --json                    # With region, role and bound item
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # The wrapped executables (set `wrap`/`wrap_extra` in config.toml to change them)
  export extern "op-aws list" [
    --json
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # See and flush cached temporary sessions (roles, MFA sessions). Never shows a secret
  export extern "op-aws cache" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # The cached sessions: profile, role, item and expiry
  export extern "op-aws cache list" [
    --json
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Forget cached sessions, so the next command asks STS again
  export extern "op-aws cache clear" [
    --profile: string         # Only this profile's sessions
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws cache help" [
  ]

  # The cached sessions: profile, role, item and expiry
  export extern "op-aws cache help list" [
  ]

  # Forget cached sessions, so the next command asks STS again
  export extern "op-aws cache help clear" [
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws cache help help" [
  ]

  # Every release of credentials (and every refusal): when, to which caller (person or agent), which item, profile, role, session policy, expiry, and how it was approved
  export extern "op-aws audit" [
    --since: string           # Only entries this recent: a duration ("1h", "2d") or a time (RFC 3339)
    --agent                   # Only releases to (and refusals of) AI coding agents
    --json                    # One JSON object per entry, as the log holds them
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Check for plaintext keys, the shell integration, the agent, and the clock
  export extern "op-aws doctor" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Set up what op-aws works with: `setup polkit` (quick unlock, as root), `setup claude-code`
  export extern "op-aws setup" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # Install polkit's action for quick unlock (as root)
  export extern "op-aws setup polkit" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help (see more with '--help')
    --version(-V)             # Print version
  ]

  # Wire Claude Code to op-aws: its sandbox reaches `op-aws sandbox`'s capability and the AWS APIs, its Bedrock calls get a Bedrock-only session (awsCredentialExport)
  export extern "op-aws setup claude-code" [
    --user                    # The user's settings (~/.claude/settings.json) instead of this project's
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help (see more with '--help')
    --version(-V)             # Print version
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws setup help" [
  ]

  # Install polkit's action for quick unlock (as root)
  export extern "op-aws setup help polkit" [
  ]

  # Wire Claude Code to op-aws: its sandbox reaches `op-aws sandbox`'s capability and the AWS APIs, its Bedrock calls get a Bedrock-only session (awsCredentialExport)
  export extern "op-aws setup help claude-code" [
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws setup help help" [
  ]

  def "nu-complete op-aws hook-env shell" [] {
    [ "bash" "zsh" "fish" "nu" ]
  }

  # [internal] What the shell integration's cd hook evaluates
  export extern "op-aws hook-env" [
    --shell: string@"nu-complete op-aws hook-env shell"
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # [internal] The agent process, started by `op-aws unlock`
  export extern "op-aws agent" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
  ]

  # [internal] Write the manual pages into DIR
  export extern "op-aws manpages" [
    --quiet(-q)               # Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a one-line spinner on stderr says what op-aws is doing)
    --help(-h)                # Print help
    --version(-V)             # Print version
    dir: path
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws help" [
  ]

  # Guided setup: vault, import of plaintext keys, an item, its scope, and the rc line
  export extern "op-aws help init" [
  ]

  # Manage the local vault
  export extern "op-aws help vault" [
  ]

  # Create the local vault (the passphrase is asked twice, or read from stdin)
  export extern "op-aws help vault create" [
  ]

  # Change the passphrase (the old one, then the new one twice; or two stdin lines)
  export extern "op-aws help vault passphrase" [
  ]

  # A new vault identity: the vault re-encrypted to it, cached sessions dropped, so a stolen copy of the old identity opens nothing new (the passphrase stays)
  export extern "op-aws help vault rekey" [
  ]

  # Security keys, Touch ID, TPMs (age plugins) that unlock the vault without the passphrase
  export extern "op-aws help vault key" [
  ]

  # Wrap the vault identity to an age plugin's recipient (asks for the passphrase)
  export extern "op-aws help vault key add" [
  ]

  # The keys, in the order `unlock` tries them
  export extern "op-aws help vault key list" [
  ]

  # Forget a key (its wrapped file is deleted)
  export extern "op-aws help vault key rm" [
  ]

  # Unlock the vault: the agent keeps it open until idle for --timeout (at most 12 hours)
  export extern "op-aws help unlock" [
  ]

  # Forget every secret now: the agent exits
  export extern "op-aws help lock" [
  ]

  # Locked or unlocked, the store, and the item and scope in effect here
  export extern "op-aws help status" [
  ]

  # Add, list, show, change and remove items in the local vault
  export extern "op-aws help item" [
  ]

  # Add an item: plain fields with --set, concealed ones with --set-secret
  export extern "op-aws help item add" [
  ]

  # List the items
  export extern "op-aws help item list" [
  ]

  # Show an item; concealed values are masked unless --reveal
  export extern "op-aws help item show" [
  ]

  # Change an item
  export extern "op-aws help item edit" [
  ]

  # Remove an item
  export extern "op-aws help item rm" [
  ]

  # Import plaintext keys from ~/.aws/credentials (or the environment) into the vault
  export extern "op-aws help import" [
  ]

  # Rotate an item's IAM access key: a new key, checked, stored, then the old one deleted
  export extern "op-aws help rotate" [
  ]

  # IAM Identity Center: sign in once for every terminal and process; tokens kept encrypted
  export extern "op-aws help sso" [
  ]

  # Sign in with the device flow: prints the address and code, opens the browser
  export extern "op-aws help sso login" [
  ]

  # Forget the session's tokens (and the role sessions they gave)
  export extern "op-aws help sso logout" [
  ]

  # The sessions op-aws holds tokens for: expiry, whether it can refresh. Never a token
  export extern "op-aws help sso status" [
  ]

  # Write one profile per account and role into a marked block of the AWS config
  export extern "op-aws help sso populate" [
  ]

  # Sign in with AWS Sign-In (`aws login`, console credentials): op-aws keeps the session encrypted, refreshes it for every process, and serves the profile (roles on top included)
  export extern "op-aws help signin" [
  ]

  # Make ITEM the default: for this terminal (default), a directory and below, or everywhere
  export extern "op-aws help use" [
  ]

  # What applies here: wrapped commands, whether the shell integration is loaded, and every default with its scope, item and store. Never a secret
  export extern "op-aws help inspect" [
  ]

  # Remove the default in effect here (session, then directory, then global); --all removes all
  export extern "op-aws help clear" [
  ]

  # Trust a repository's .op-aws.toml (by path and content): its default item and profiles apply in its directory and below until the file changes
  export extern "op-aws help trust" [
  ]

  # Stop using a repository's .op-aws.toml
  export extern "op-aws help untrust" [
  ]

  # Run a command with the credentials in effect here, in its environment only
  export extern "op-aws help run" [
  ]

  # Run an AI agent (or any program) with one capability to op-aws: a socket of its own, out of reach of op-aws's socket, vault, cache, approvals and audit log. Every credential request on it is this sandbox's agent's, under its policy
  export extern "op-aws help sandbox" [
  ]

  # The open sandboxes: name, policy, items, profiles, requests served and refused
  export extern "op-aws help sandbox list" [
  ]

  # Close a sandbox's capability at once and forget the sessions issued to it
  export extern "op-aws help sandbox stop" [
  ]

  # Serve credentials on a loopback endpoint for IDEs and GUIs; prints the variables to set
  export extern "op-aws help serve" [
  ]

  # Open the AWS console signed in as the item or profile in effect (or print the sign-in URL)
  export extern "op-aws help login" [
  ]

  # Print the credentials for a shell (or a program) to load
  export extern "op-aws help export" [
  ]

  # For `credential_process = op-aws credential-process --profile P` in ~/.aws/config
  export extern "op-aws help credential-process" [
  ]

  # Print the shell integration: cd hook, wrapper functions, `aws --profile` completion
  export extern "op-aws help activate" [
  ]

  # Print the completion script for op-aws itself
  export extern "op-aws help completions" [
  ]

  # The profile names from the AWS config and credentials files (and a trusted project file), one per line
  export extern "op-aws help profiles" [
  ]

  # The wrapped executables (set `wrap`/`wrap_extra` in config.toml to change them)
  export extern "op-aws help list" [
  ]

  # See and flush cached temporary sessions (roles, MFA sessions). Never shows a secret
  export extern "op-aws help cache" [
  ]

  # The cached sessions: profile, role, item and expiry
  export extern "op-aws help cache list" [
  ]

  # Forget cached sessions, so the next command asks STS again
  export extern "op-aws help cache clear" [
  ]

  # Every release of credentials (and every refusal): when, to which caller (person or agent), which item, profile, role, session policy, expiry, and how it was approved
  export extern "op-aws help audit" [
  ]

  # Check for plaintext keys, the shell integration, the agent, and the clock
  export extern "op-aws help doctor" [
  ]

  # Set up what op-aws works with: `setup polkit` (quick unlock, as root), `setup claude-code`
  export extern "op-aws help setup" [
  ]

  # Install polkit's action for quick unlock (as root)
  export extern "op-aws help setup polkit" [
  ]

  # Wire Claude Code to op-aws: its sandbox reaches `op-aws sandbox`'s capability and the AWS APIs, its Bedrock calls get a Bedrock-only session (awsCredentialExport)
  export extern "op-aws help setup claude-code" [
  ]

  # [internal] What the shell integration's cd hook evaluates
  export extern "op-aws help hook-env" [
  ]

  # [internal] The agent process, started by `op-aws unlock`
  export extern "op-aws help agent" [
  ]

  # [internal] Write the manual pages into DIR
  export extern "op-aws help manpages" [
  ]

  # Print this message or the help of the given subcommand(s)
  export extern "op-aws help help" [
  ]

}

export use completions *
