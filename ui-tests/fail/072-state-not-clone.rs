// `State<T>` hands the handler a clone of the app's `T`: a `T` without `Clone` cannot be one.
use nets_runtime::State;
use nets_runtime::prelude::*;

struct Counter(u64);

#[request_handler(path = "count/", method = GET, public)]
async fn count(counter: State<Counter>) -> ApiResult<u64> {
    Ok(counter.0.0)
}

fn main() {}
