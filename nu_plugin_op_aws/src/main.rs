fn main() {
    nu_plugin::serve_plugin(&nu_plugin_op_aws::OpAwsPlugin, nu_plugin::MsgPackSerializer);
}
