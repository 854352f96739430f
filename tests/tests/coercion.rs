//! Parameter coercion: every parameter type and the wire forms real clients send it in,
//! from every source (path, query, JSON, urlencoded and multipart bodies), and which
//! source wins when a name is given twice.

use nets_runtime::build_urlpatterns;
use nets_tests::{PNG_BYTES, TestServer, app, settings};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// One handler per type; each echoes what it received. The parameter is called `v`
/// unless the test is about names.
mod api {
    use chrono::{DateTime, NaiveDate, Utc};
    use nets_runtime::prelude::*;
    use serde::{Deserialize, Serialize};
    use serde_json::{Map, Value, json};
    use uuid::Uuid;
    use validator::Validate;

    #[request_handler(path = "text/", methods = [GET, POST], public)]
    async fn text(v: String) -> ApiResult<String> {
        Ok(v)
    }

    #[request_handler(path = "text-or-empty/", methods = [GET, POST], public)]
    async fn text_or_empty(#[param(allow_empty)] v: String) -> ApiResult<String> {
        Ok(v)
    }

    #[request_handler(path = "i32/", methods = [GET, POST], public)]
    async fn int32(v: i32) -> ApiResult<i32> {
        Ok(v)
    }

    #[request_handler(path = "u8/", methods = [GET, POST], public)]
    async fn uint8(v: u8) -> ApiResult<u8> {
        Ok(v)
    }

    #[request_handler(path = "i64/", methods = [GET, POST], public)]
    async fn int64(v: i64) -> ApiResult<i64> {
        Ok(v)
    }

    #[request_handler(path = "u64/", methods = [GET, POST], public)]
    async fn uint64(v: u64) -> ApiResult<u64> {
        Ok(v)
    }

    #[request_handler(path = "f64/", methods = [GET, POST], public)]
    async fn float64(v: f64) -> ApiResult<f64> {
        Ok(v)
    }

    #[request_handler(path = "bool/", methods = [GET, POST], public)]
    async fn boolean(v: bool) -> ApiResult<bool> {
        Ok(v)
    }

    #[request_handler(path = "ints/", methods = [GET, POST], public)]
    async fn int_list(v: Vec<i32>) -> ApiResult<Vec<i32>> {
        Ok(v)
    }

    #[request_handler(path = "strings/", methods = [GET, POST], public)]
    async fn string_list(v: Vec<String>) -> ApiResult<Vec<String>> {
        Ok(v)
    }

    #[request_handler(path = "value/", methods = [GET, POST], public)]
    async fn any_value(v: Value) -> ApiResult<Value> {
        Ok(v)
    }

    #[request_handler(path = "map/", methods = [GET, POST], public)]
    async fn object(v: Map<String, Value>) -> ApiResult<Map<String, Value>> {
        Ok(v)
    }

    #[request_handler(path = "date/", methods = [GET, POST], public)]
    async fn date(v: NaiveDate) -> ApiResult<NaiveDate> {
        Ok(v)
    }

    #[request_handler(path = "datetime/", methods = [GET, POST], public)]
    async fn datetime(v: DateTime<Utc>) -> ApiResult<DateTime<Utc>> {
        Ok(v)
    }

    #[request_handler(path = "email/", methods = [GET, POST], public)]
    async fn email(v: Email) -> ApiResult<Email> {
        Ok(v)
    }

    #[request_handler(path = "uuid/", methods = [GET, POST], public)]
    async fn uuid(v: Uuid) -> ApiResult<Uuid> {
        Ok(v)
    }

    #[request_handler(path = "optional/", methods = [GET, POST], public)]
    async fn optional(n: Option<i64>, s: Option<String>, d: Option<NaiveDate>) -> ApiResult<Value> {
        Ok(json!({"n": n, "s": s, "d": d}))
    }

    #[request_handler(path = "defaults/", methods = [GET, POST], public)]
    async fn defaults(
        #[param(default = 7)] n: i64,
        #[param(default = "anon".to_owned())] who: String,
        #[param(default = true)] flag: bool,
        #[param(default = vec![1, 2])] list: Vec<i32>,
    ) -> ApiResult<Value> {
        Ok(json!({"n": n, "who": who, "flag": flag, "list": list}))
    }

    #[request_handler(path = "renamed/", methods = [GET, POST], public)]
    async fn renamed(#[param(rename = "x")] value: i64, #[param(rename = "type")] kind: String) -> ApiResult<Value> {
        Ok(json!({"value": value, "kind": kind}))
    }

    #[request_handler(path = "item/{id}/", methods = [GET, POST], public)]
    async fn item(id: i64) -> ApiResult<i64> {
        Ok(id)
    }

    #[request_handler(path = "word/{word}/", method = GET, public)]
    async fn word(word: String) -> ApiResult<String> {
        Ok(word)
    }

    #[request_handler(path = "precedence/{id}/", methods = [GET, POST, PUT, PATCH, DELETE], public)]
    async fn precedence(id: String, a: String, b: String) -> ApiResult<Value> {
        Ok(json!({"id": id, "a": a, "b": b}))
    }

    #[request_handler(path = "two/{x}/{y}/", method = POST, public)]
    async fn two_path_params(x: String, y: String) -> ApiResult<Value> {
        Ok(json!({"x": x, "y": y}))
    }

    /// A structured body.
    #[derive(Debug, Deserialize, Serialize, Validate)]
    pub struct NoteIn {
        pub text: String,
        #[serde(default)]
        pub pinned: bool,
    }

    #[request_handler(path = "note/", method = POST, public)]
    async fn note(#[param(body)] note: NoteIn) -> ApiResult<NoteIn> {
        Ok(note)
    }

    #[request_handler(path = "upload/", method = POST, public)]
    async fn upload(
        #[param(filetypes = ["image/png"])] file: UploadedFile,
        caption: Option<String>,
    ) -> ApiResult<Value> {
        Ok(json!({
            "file_name": file.file_name(),
            "declared_type": file.declared_type(),
            "content_type": file.content_type(),
            "size": file.len(),
            "caption": caption,
        }))
    }
}

/// A server with `TIME_ZONE = 'America/Bogota'` (UTC-5, no DST).
async fn server() -> TestServer {
    server_in("America/Bogota").await
}

async fn server_in(time_zone: &str) -> TestServer {
    let app = app(settings(&format!("TIME_ZONE = '{time_zone}'")));
    TestServer::start(app.routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app").router()).await
}

/// POSTs `{"v": value}` as JSON.
async fn json_v(s: &TestServer, path: &str, value: Value) -> nets_tests::Reply {
    s.send(s.post_json(path, json!({ "v": value }))).await
}

/// GETs `path?query`.
async fn query(s: &TestServer, path_and_query: &str) -> nets_tests::Reply {
    s.send(s.get(path_and_query)).await
}

/// POSTs a urlencoded form.
async fn form(s: &TestServer, path: &str, pairs: &[(&str, &str)]) -> nets_tests::Reply {
    s.send(s.post(path).form(pairs)).await
}

#[tokio::test]
async fn strings_take_text_and_the_text_of_numbers_and_booleans() {
    let s = server().await;
    json_v(&s, "/text/", json!("hello")).await.assert_data(json!("hello"));
    json_v(&s, "/text/", json!(5)).await.assert_data(json!("5"));
    json_v(&s, "/text/", json!(true)).await.assert_data(json!("true"));
    // A required string refuses an empty value like a missing one (issue 17 item 7);
    // `#[param(allow_empty)]` takes it.
    json_v(&s, "/text/", json!("")).await.assert_missing(&["v"]);
    json_v(&s, "/text/", json!("   ")).await.assert_missing(&["v"]);
    query(&s, "/text/?v=").await.assert_missing(&["v"]);
    json_v(&s, "/text-or-empty/", json!("")).await.assert_data(json!(""));
    form(&s, "/text-or-empty/", &[("v", "")]).await.assert_data(json!(""));
    json_v(&s, "/text/", json!("  spaced  ")).await.assert_data(json!("  spaced  "));
    query(&s, "/text/?v=a+b%26c").await.assert_data(json!("a b&c"));
    form(&s, "/text/", &[("v", "from form")]).await.assert_data(json!("from form"));
    json_v(&s, "/text/", json!([1])).await.assert_invalid("v", "expected a string, got [1]");
}

#[tokio::test]
async fn integers_take_numbers_and_decimal_strings() {
    let s = server().await;
    json_v(&s, "/i32/", json!(5)).await.assert_data(json!(5));
    json_v(&s, "/i32/", json!("5")).await.assert_data(json!(5));
    json_v(&s, "/i32/", json!(" 42 ")).await.assert_data(json!(42));
    json_v(&s, "/i32/", json!(-7)).await.assert_data(json!(-7));
    json_v(&s, "/i32/", json!("0")).await.assert_data(json!(0));
    query(&s, "/i32/?v=12").await.assert_data(json!(12));
    form(&s, "/i32/", &[("v", "13")]).await.assert_data(json!(13));
    json_v(&s, "/i64/", json!("-9223372036854775808")).await.assert_data(json!(i64::MIN));
    json_v(&s, "/u64/", json!(u64::MAX)).await.assert_data(json!(u64::MAX));
    json_v(&s, "/u64/", json!("18446744073709551615")).await.assert_data(json!(u64::MAX));
}

#[tokio::test]
async fn integers_reject_fractions_overflow_and_text() {
    let s = server().await;
    json_v(&s, "/i32/", json!("1.5")).await.assert_invalid("v", "expected an integer (32-bit), got \"1.5\"");
    json_v(&s, "/i32/", json!(1.5)).await.assert_invalid("v", "expected an integer (32-bit), got 1.5");
    json_v(&s, "/i32/", json!("abc")).await.assert_invalid("v", "expected an integer (32-bit), got \"abc\"");
    json_v(&s, "/i32/", json!(true)).await.assert_invalid("v", "expected an integer (32-bit), got true");
    json_v(&s, "/i32/", json!("2147483648"))
        .await
        .assert_invalid("v", "2147483648 is out of range for an integer (32-bit)");
    json_v(&s, "/u8/", json!(256)).await.assert_invalid("v", "256 is out of range for a non-negative integer (8-bit)");
    json_v(&s, "/u8/", json!("-1")).await.assert_invalid("v", "-1 is out of range for a non-negative integer (8-bit)");
    json_v(&s, "/i64/", json!("9223372036854775808"))
        .await
        .assert_invalid("v", "9223372036854775808 is out of range for an integer");
    query(&s, "/u8/?v=300").await.assert_invalid("v", "300 is out of range for a non-negative integer (8-bit)");
}

#[tokio::test]
async fn floats_take_numbers_and_numeric_strings_but_not_nan() {
    let s = server().await;
    json_v(&s, "/f64/", json!(2.5)).await.assert_data(json!(2.5));
    json_v(&s, "/f64/", json!(3)).await.assert_data(json!(3.0));
    json_v(&s, "/f64/", json!("-0.25")).await.assert_data(json!(-0.25));
    query(&s, "/f64/?v=1e3").await.assert_data(json!(1000.0));
    json_v(&s, "/f64/", json!("NaN")).await.assert_invalid("v", "expected a number, got \"NaN\"");
    json_v(&s, "/f64/", json!("inf")).await.assert_invalid("v", "expected a number, got \"inf\"");
    json_v(&s, "/f64/", json!("ten")).await.assert_invalid("v", "expected a number, got \"ten\"");
}

#[tokio::test]
async fn booleans_accept_the_usual_spellings_in_every_source() {
    let s = server().await;
    for truthy in
        [json!(true), json!(1), json!("1"), json!("true"), json!("True"), json!("TRUE"), json!("yes"), json!("on")]
    {
        json_v(&s, "/bool/", truthy.clone()).await.assert_data(json!(true));
    }
    for falsy in
        [json!(false), json!(0), json!("0"), json!("false"), json!("False"), json!(""), json!("no"), json!("off")]
    {
        json_v(&s, "/bool/", falsy.clone()).await.assert_data(json!(false));
    }
    for (text, expected) in [("true", true), ("True", true), ("1", true), ("on", true), ("yes", true)] {
        query(&s, &format!("/bool/?v={text}")).await.assert_data(json!(expected));
        form(&s, "/bool/", &[("v", text)]).await.assert_data(json!(expected));
    }
    for text in ["false", "False", "0", "", "no", "off"] {
        query(&s, &format!("/bool/?v={text}")).await.assert_data(json!(false));
        form(&s, "/bool/", &[("v", text)]).await.assert_data(json!(false));
    }
}

#[tokio::test]
async fn booleans_reject_anything_else() {
    let s = server().await;
    json_v(&s, "/bool/", json!("maybe"))
        .await
        .assert_invalid("v", "expected a boolean (true/false/1/0), got \"maybe\"");
    json_v(&s, "/bool/", json!(2)).await.assert_invalid("v", "expected a boolean (true/false/1/0), got 2");
    query(&s, "/bool/?v=maybe").await.assert_invalid("v", "expected a boolean (true/false/1/0), got \"maybe\"");
    // Absent is not false: the parameter is required.
    query(&s, "/bool/").await.assert_field_errors("Missing params: v", json!({"v": ["this parameter is required"]}));
}

#[tokio::test]
async fn lists_take_arrays_encoded_arrays_comma_lists_and_repeated_keys() {
    let s = server().await;
    json_v(&s, "/ints/", json!([1, "2", 3])).await.assert_data(json!([1, 2, 3]));
    json_v(&s, "/ints/", json!("[1, 2, 3]")).await.assert_data(json!([1, 2, 3]));
    json_v(&s, "/ints/", json!(" 1, 2 ,3 ")).await.assert_data(json!([1, 2, 3]));
    json_v(&s, "/ints/", json!(5)).await.assert_data(json!([5]));
    // Required lists refuse empty ones like missing ones (issue 17 item 7).
    json_v(&s, "/ints/", json!("")).await.assert_missing(&["v"]);
    json_v(&s, "/ints/", json!([])).await.assert_missing(&["v"]);
    query(&s, "/ints/?v=1&v=2").await.assert_data(json!([1, 2]));
    query(&s, "/ints/?v=4").await.assert_data(json!([4]));
    query(&s, "/ints/?v=%5B7%2C8%5D").await.assert_data(json!([7, 8]));
    form(&s, "/ints/", &[("v", "1"), ("v", "2"), ("v", "3")]).await.assert_data(json!([1, 2, 3]));
    json_v(&s, "/strings/", json!("a, b ,c")).await.assert_data(json!(["a", "b", "c"]));
    json_v(&s, "/strings/", json!(["x", "y"])).await.assert_data(json!(["x", "y"]));
    json_v(&s, "/strings/", json!("[\"a,b\", \"c\"]")).await.assert_data(json!(["a,b", "c"]));
    query(&s, "/strings/?v=a&v=b").await.assert_data(json!(["a", "b"]));
    query(&s, "/strings/?v=a,%20b").await.assert_data(json!(["a", "b"]));
}

#[tokio::test]
async fn a_bad_list_item_is_named_by_position() {
    let s = server().await;
    json_v(&s, "/ints/", json!("1,x,3")).await.assert_invalid("v", "item 1: expected an integer (32-bit), got \"x\"");
    json_v(&s, "/ints/", json!([1, 2, "no"]))
        .await
        .assert_invalid("v", "item 2: expected an integer (32-bit), got \"no\"");
    query(&s, "/ints/?v=1&v=y").await.assert_invalid("v", "item 1: expected an integer (32-bit), got \"y\"");
    // Not JSON: split like a printed list, whose empty second item is no integer.
    json_v(&s, "/ints/", json!("[1,")).await.assert_invalid("v", "item 1: expected an integer (32-bit), got \"\"");
    json_v(&s, "/ints/", json!({"a": 1})).await.assert_invalid("v", "expected a list, got {\"a\":1}");
}

#[tokio::test]
async fn json_values_and_objects_arrive_as_json_or_json_encoded_strings() {
    let s = server().await;
    json_v(&s, "/value/", json!({"a": [1, {"b": null}]})).await.assert_data(json!({"a": [1, {"b": null}]}));
    json_v(&s, "/value/", json!("{\"a\": 1}")).await.assert_data(json!({"a": 1}));
    json_v(&s, "/value/", json!("[1, 2]")).await.assert_data(json!([1, 2]));
    json_v(&s, "/value/", json!("plain")).await.assert_data(json!("plain"));
    json_v(&s, "/value/", json!(5)).await.assert_data(json!(5));
    query(&s, "/value/?v=%7B%22k%22%3A%22x%22%7D").await.assert_data(json!({"k": "x"}));
    form(&s, "/value/", &[("v", "{\"k\": [true]}")]).await.assert_data(json!({"k": [true]}));

    json_v(&s, "/map/", json!({"name": "x"})).await.assert_data(json!({"name": "x"}));
    json_v(&s, "/map/", json!("{\"name\": \"x\"}")).await.assert_data(json!({"name": "x"}));
    form(&s, "/map/", &[("v", "{\"name\": \"y\"}")]).await.assert_data(json!({"name": "y"}));
    // An object parameter keeps a select-shaped object whole.
    json_v(&s, "/map/", json!({"value": 5, "label": "five"})).await.assert_data(json!({"value": 5, "label": "five"}));
    json_v(&s, "/map/", json!("[1]")).await.assert_invalid("v", "expected a JSON object, got \"[1]\"");
    json_v(&s, "/map/", json!("{broken")).await.assert_invalid("v", "expected a JSON object, got \"{broken\"");
}

#[tokio::test]
async fn dates_take_iso_dates_and_the_date_of_iso_datetimes() {
    let s = server().await;
    json_v(&s, "/date/", json!("2024-05-04")).await.assert_data(json!("2024-05-04"));
    json_v(&s, "/date/", json!("2024-05-04T23:00:00-05:00")).await.assert_data(json!("2024-05-04"));
    json_v(&s, "/date/", json!("2024-05-04 08:30:00")).await.assert_data(json!("2024-05-04"));
    query(&s, "/date/?v=2024-02-29").await.assert_data(json!("2024-02-29"));
    json_v(&s, "/date/", json!("04/05/2024"))
        .await
        .assert_invalid("v", "expected a date (YYYY-MM-DD), got \"04/05/2024\"");
    json_v(&s, "/date/", json!("2024-13-01"))
        .await
        .assert_invalid("v", "expected a date (YYYY-MM-DD), got \"2024-13-01\"");
    json_v(&s, "/date/", json!(20240504)).await.assert_invalid("v", "expected a date (YYYY-MM-DD), got 20240504");
}

#[tokio::test]
async fn naive_datetimes_are_read_in_the_configured_time_zone() {
    let s = server().await; // America/Bogota, UTC-5
    json_v(&s, "/datetime/", json!("2024-05-04T10:00:00")).await.assert_data(json!("2024-05-04T15:00:00Z"));
    json_v(&s, "/datetime/", json!("2024-05-04 10:00")).await.assert_data(json!("2024-05-04T15:00:00Z"));
    json_v(&s, "/datetime/", json!("2024-05-04T10:00:00.250")).await.assert_data(json!("2024-05-04T15:00:00.250Z"));
    // Aware input keeps its own offset.
    json_v(&s, "/datetime/", json!("2024-05-04T10:00:00+02:00")).await.assert_data(json!("2024-05-04T08:00:00Z"));
    json_v(&s, "/datetime/", json!("2024-05-04T10:00:00Z")).await.assert_data(json!("2024-05-04T10:00:00Z"));
    query(&s, "/datetime/?v=2024-05-04T10:00:00%2B02:00").await.assert_data(json!("2024-05-04T08:00:00Z"));

    let utc = server_in("UTC").await;
    json_v(&utc, "/datetime/", json!("2024-05-04T10:00:00")).await.assert_data(json!("2024-05-04T10:00:00Z"));
}

#[tokio::test]
async fn unreadable_and_nonexistent_datetimes_are_errors() {
    let s = server().await;
    let expected = "expected a datetime (RFC 3339, e.g. 2024-05-04T10:00:00Z), got \"yesterday\"";
    json_v(&s, "/datetime/", json!("yesterday")).await.assert_invalid("v", expected);
    let madrid = server_in("Europe/Madrid").await;
    json_v(&madrid, "/datetime/", json!("2024-03-31T02:30:00"))
        .await
        .assert_invalid("v", "2024-03-31T02:30:00 does not exist in time zone Europe/Madrid (DST gap)");
    json_v(&madrid, "/datetime/", json!("2024-10-27T02:30:00")).await.assert_invalid(
        "v",
        "2024-10-27T02:30:00 is ambiguous in time zone Europe/Madrid (DST change); send an explicit UTC offset",
    );
}

#[tokio::test]
async fn emails_are_trimmed_lower_cased_and_validated() {
    let s = server().await;
    json_v(&s, "/email/", json!(" Ada@Example.COM ")).await.assert_data(json!("ada@example.com"));
    form(&s, "/email/", &[("v", "Bob@X.org")]).await.assert_data(json!("bob@x.org"));
    json_v(&s, "/email/", json!("not-an-email"))
        .await
        .assert_invalid("v", "expected an e-mail address, got \"not-an-email\"");
    json_v(&s, "/email/", json!("a@")).await.assert_invalid("v", "expected an e-mail address, got \"a@\"");
    json_v(&s, "/email/", json!(5)).await.assert_invalid("v", "expected an e-mail address, got 5");
}

#[tokio::test]
async fn uuids_take_the_hyphenated_and_simple_forms() {
    let s = server().await;
    let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    json_v(&s, "/uuid/", json!(id)).await.assert_data(json!(id));
    json_v(&s, "/uuid/", json!("67E55044-10B1-426F-9247-BB680E5FE0C8")).await.assert_data(json!(id));
    query(&s, "/uuid/?v=67e5504410b1426f9247bb680e5fe0c8").await.assert_data(json!(id));
    json_v(&s, "/uuid/", json!("xyz")).await.assert_invalid("v", "expected a UUID, got \"xyz\"");
}

#[tokio::test]
async fn optional_parameters_are_null_when_absent_null_or_empty() {
    let s = server().await;
    let nothing = json!({"n": null, "s": null, "d": null});
    s.send(s.post_json("/optional/", json!({}))).await.assert_data(nothing.clone());
    query(&s, "/optional/").await.assert_data(nothing.clone());
    s.send(s.post_json("/optional/", json!({"n": null, "s": null, "d": null}))).await.assert_data(nothing.clone());
    // Empty text means "not given" for types where it is not a value; a string can be empty.
    query(&s, "/optional/?n=&d=&s=").await.assert_data(json!({"n": null, "s": "", "d": null}));
    s.send(s.post_json("/optional/", json!({"n": "4", "s": "x", "d": "2024-01-02"})))
        .await
        .assert_data(json!({"n": 4, "s": "x", "d": "2024-01-02"}));
    // Present but wrong is still an error.
    query(&s, "/optional/?n=four").await.assert_invalid("n", "expected an integer, got \"four\"");
}

#[tokio::test]
async fn defaults_apply_only_when_a_value_is_absent() {
    let s = server().await;
    query(&s, "/defaults/").await.assert_data(json!({"n": 7, "who": "anon", "flag": true, "list": [1, 2]}));
    s.send(s.post_json("/defaults/", json!({"n": null})))
        .await
        .assert_data(json!({"n": 7, "who": "anon", "flag": true, "list": [1, 2]}));
    query(&s, "/defaults/?n=3&who=ada&flag=0&list=9")
        .await
        .assert_data(json!({"n": 3, "who": "ada", "flag": false, "list": [9]}));
    // An empty integer is absent; an empty string, bool or list is a value.
    query(&s, "/defaults/?n=&who=&flag=&list=")
        .await
        .assert_data(json!({"n": 7, "who": "", "flag": false, "list": []}));
    query(&s, "/defaults/?n=x").await.assert_invalid("n", "expected an integer, got \"x\"");
}

#[tokio::test]
async fn renamed_parameters_are_read_under_their_wire_name() {
    let s = server().await;
    s.send(s.post_json("/renamed/", json!({"x": 3, "type": "t"}))).await.assert_data(json!({"value": 3, "kind": "t"}));
    query(&s, "/renamed/?x=4&type=u").await.assert_data(json!({"value": 4, "kind": "u"}));
    s.send(s.post_json("/renamed/", json!({"value": 3, "kind": "t"}))).await.assert_field_errors(
        "Missing params: x, type",
        json!({"x": ["this parameter is required"], "type": ["this parameter is required"]}),
    );
}

#[tokio::test]
async fn select_objects_are_unwrapped_to_their_value() {
    let s = server().await;
    json_v(&s, "/i32/", json!({"value": 5, "label": "five"})).await.assert_data(json!(5));
    json_v(&s, "/i32/", json!("{\"value\": 5, \"label\": \"five\"}")).await.assert_data(json!(5));
    json_v(&s, "/text/", json!({"value": "co", "label": "Colombia"})).await.assert_data(json!("co"));
    json_v(&s, "/date/", json!({"value": "2024-05-04", "label": "May 4"})).await.assert_data(json!("2024-05-04"));
    query(&s, "/i32/?v=%7B%22value%22%3A6%2C%22label%22%3A%22six%22%7D").await.assert_data(json!(6));
    form(&s, "/i32/", &[("v", "{\"value\": \"7\", \"label\": \"seven\"}")]).await.assert_data(json!(7));
    json_v(&s, "/ints/", json!({"value": [1, 2], "label": "one and two"})).await.assert_data(json!([1, 2]));
    // The unwrapped value is coerced like any other.
    json_v(&s, "/i32/", json!({"value": "x", "label": "x"}))
        .await
        .assert_invalid("v", "expected an integer (32-bit), got \"x\"");
    // `{"value": null}` is no value at all.
    json_v(&s, "/i32/", json!({"value": null, "label": "none"}))
        .await
        .assert_field_errors("Missing params: v", json!({"v": ["this parameter is required"]}));
}

#[tokio::test]
async fn path_parameters_are_coerced_and_percent_decoded() {
    let s = server().await;
    query(&s, "/item/42/").await.assert_data(json!(42));
    s.send(s.post("/item/43/")).await.assert_data(json!(43));
    query(&s, "/item/abc/").await.assert_invalid("id", "expected an integer, got \"abc\"");
    query(&s, "/word/hello%20world/").await.assert_data(json!("hello world"));
    query(&s, "/word/caf%C3%A9/").await.assert_data(json!("café"));
    s.send(s.get("/word/%FF/")).await.assert_error(400, "invalid percent-encoding in the path");
}

#[tokio::test]
async fn the_path_wins_over_the_body_and_the_body_over_the_query() {
    let s = server().await;
    let body = json!({"id": "body", "a": "body"});
    let expected = json!({"id": "path", "a": "body", "b": "query"});
    for method in [reqwest::Method::POST, reqwest::Method::PUT, reqwest::Method::PATCH, reqwest::Method::DELETE] {
        let request = s.request(method, "/precedence/path/?id=query&a=query&b=query").json(&body);
        s.send(request).await.assert_data(expected.clone());
    }
    let request = s.post("/precedence/path/?id=query&a=query&b=query").form(&[("id", "body"), ("a", "body")]);
    s.send(request).await.assert_data(expected.clone());
    let multipart = Form::new().text("id", "body").text("a", "body");
    let request = s.post("/precedence/path/?id=query&a=query&b=query").multipart(multipart);
    s.send(request).await.assert_data(expected);
}

#[tokio::test]
async fn the_body_wins_over_the_query_for_every_parameter() {
    let s = server().await;
    let request = s.post_json("/precedence/path/?a=query&b=query", json!({"a": "body", "b": "body"}));
    s.send(request).await.assert_data(json!({"id": "path", "a": "body", "b": "body"}));
    let request = s.post("/precedence/path/?a=query&b=query").form(&[("a", "body"), ("b", "body")]);
    s.send(request).await.assert_data(json!({"id": "path", "a": "body", "b": "body"}));
}

#[tokio::test]
async fn the_path_wins_over_the_body_for_every_path_parameter() {
    let s = server().await;
    let request = s.post_json("/two/px/py/", json!({"x": "body", "y": "body"}));
    s.send(request).await.assert_data(json!({"x": "px", "y": "py"}));
}

#[tokio::test]
async fn the_query_string_is_read_on_get_and_on_post() {
    let s = server().await;
    query(&s, "/precedence/p/?a=1&b=2").await.assert_data(json!({"id": "p", "a": "1", "b": "2"}));
    s.send(s.post("/precedence/p/?a=1&b=2")).await.assert_data(json!({"id": "p", "a": "1", "b": "2"}));
    s.send(s.post_json("/precedence/p/?b=2", json!({"a": 1})))
        .await
        .assert_data(json!({"id": "p", "a": "1", "b": "2"}));
    // A GET body is not read: parameters of GET come from the path and the query only.
    let request = s.get("/precedence/p/?b=2").json(&json!({"a": "ignored"}));
    s.send(request).await.assert_field_errors("Missing params: a", json!({"a": ["this parameter is required"]}));
}

#[tokio::test]
async fn bodies_are_read_as_json_form_and_multipart_with_any_json_media_type() {
    let s = server().await;
    let expected = json!({"id": "p", "a": "x", "b": "y"});
    s.send(s.post_json("/precedence/p/", json!({"a": "x", "b": "y"}))).await.assert_data(expected.clone());
    for content_type in ["application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json"] {
        let request =
            s.post("/precedence/p/").header("content-type", content_type).body(r#"{"a": "x", "b": "y"}"#.to_owned());
        s.send(request).await.assert_data(expected.clone());
    }
    s.send(s.request(reqwest::Method::PUT, "/precedence/p/").form(&[("a", "x"), ("b", "y")]))
        .await
        .assert_data(expected.clone());
    s.send(s.request(reqwest::Method::PATCH, "/precedence/p/").form(&[("a", "x"), ("b", "y")]))
        .await
        .assert_data(expected.clone());
    let multipart = Form::new().text("a", "x").text("b", "y");
    s.send(s.post("/precedence/p/").multipart(multipart)).await.assert_data(expected);
    let repeated = Form::new().text("v", "a").text("v", "b");
    s.send(s.post("/strings/").multipart(repeated)).await.assert_data(json!(["a", "b"]));
}

#[tokio::test]
async fn a_structured_body_comes_from_the_whole_body_or_its_own_key() {
    let s = server().await;
    s.send(s.post_json("/note/", json!({"text": "hi", "pinned": true})))
        .await
        .assert_data(json!({"text": "hi", "pinned": true}));
    s.send(s.post_json("/note/", json!({"note": {"text": "inner"}})))
        .await
        .assert_data(json!({"text": "inner", "pinned": false}));
    s.send(s.post_json("/note/", json!({"note": "{\"text\": \"encoded\"}"})))
        .await
        .assert_data(json!({"text": "encoded", "pinned": false}));
    s.send(s.post("/note/").form(&[("text", "from a form")]))
        .await
        .assert_data(json!({"text": "from a form", "pinned": false}));
}

#[tokio::test]
async fn a_structured_body_prefers_the_body_over_the_query_string() {
    let s = server().await;
    s.send(s.post_json("/note/?text=from-query", json!({"text": "from-body"})))
        .await
        .assert_data(json!({"text": "from-body", "pinned": false}));
}

#[tokio::test]
async fn uploaded_files_are_typed_by_their_bytes() {
    let s = server().await;
    let png = Part::bytes(PNG_BYTES.to_vec()).file_name("cat.txt").mime_str("text/plain").expect("mime");
    let multipart = Form::new().part("file", png).text("caption", "a cat");
    s.send(s.post("/upload/").multipart(multipart)).await.assert_data(json!({
        "file_name": "cat.txt",
        "declared_type": "text/plain",
        "content_type": "image/png",
        "size": PNG_BYTES.len(),
        "caption": "a cat",
    }));

    let text = Part::bytes(b"just text".to_vec()).file_name("evil.png").mime_str("image/png").expect("mime");
    s.send(s.post("/upload/").multipart(Form::new().part("file", text)))
        .await
        .assert_invalid("file", "file type text/plain is not allowed (allowed: image/png)");
}

#[tokio::test]
async fn a_file_parameter_needs_a_file_part() {
    let s = server().await;
    s.send(s.post("/upload/").multipart(Form::new().text("file", "hello")))
        .await
        .assert_invalid("file", "expected a file upload (multipart/form-data), got \"hello\"");
    s.send(s.post_json("/upload/", json!({"file": "hello"})))
        .await
        .assert_invalid("file", "expected a file upload (multipart/form-data), got \"hello\"");
    s.send(s.post("/upload/").multipart(Form::new().text("caption", "no file")))
        .await
        .assert_field_errors("Missing params: file", json!({"file": ["this parameter is required"]}));
}

/// Issue 17, items 5 and 6: what clients of the original send for lists and objects.
#[tokio::test]
async fn lists_printed_by_clients_and_objects_as_pairs() {
    let s = server().await;
    // `tags=[a, b]` (Kotlin/Java `List.toString()`) and `['x', "y"]` (Python repr).
    query(&s, "/strings/?v=%5Ba%2C%20b%5D").await.assert_data(json!(["a", "b"]));
    form(&s, "/strings/", &[("v", "['x', \"y\"]")]).await.assert_data(json!(["x", "y"]));
    json_v(&s, "/ints/", json!("[1, x]")).await.assert_invalid("v", "item 1: expected an integer (32-bit), got \"x\"");
    // `"meta": [["a", 1]]`, also JSON-encoded in a string.
    json_v(&s, "/map/", json!([["a", 1], ["b", "two"]])).await.assert_data(json!({"a": 1, "b": "two"}));
    form(&s, "/map/", &[("v", r#"[["a", 1]]"#)]).await.assert_data(json!({"a": 1}));
    json_v(&s, "/map/", json!([["a", 1, 2]])).await.assert_invalid("v", "expected a JSON object, got [[\"a\",1,2]]");
}
