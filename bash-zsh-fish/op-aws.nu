# op-aws nushell module: placeholder until the nushell integration lands.
export-env {}
