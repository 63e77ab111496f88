#![forbid(unsafe_code)]

fn main() {
    // The plugin holds what `op-aws export` returned: no core dumps, not dumpable.
    op_aws::process::harden();
    nu_plugin::serve_plugin(&nu_plugin_op_aws::OpAwsPlugin, nu_plugin::MsgPackSerializer);
}
