// The attribute on something that is not a function.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
struct Invoices;

fn main() {}
