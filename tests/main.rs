//! One integration binary (one link step). Files are named for what they prove.

mod support;

mod foundation;
mod injection;
mod nu;
mod onepassword;
mod shells;
mod sts;
