// `references` names a type that is not a nets model.
use nets_runtime::prelude::*;

struct Person;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices")]
struct Invoice {
    id: i64,
    #[nets(references = Person)]
    user_id: i64,
}

fn main() {}
