//! What is sent: [`Notification`], and the FCM HTTP v1 message built from it (the
//! original's Android options, plus an `apns` block so iOS devices get the same message).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::SendError;

/// FCM refuses a message whose payload exceeds 4096 bytes; checked before sending so the
/// caller gets the reason at once instead of a retried `INVALID_ARGUMENT`.
const MAX_PAYLOAD_BYTES: usize = 4096;

/// Data keys FCM reserves (`from`, `notification`, `message_type`, and anything starting
/// with `google.` or `gcm.`): a message carrying one is refused by FCM.
fn reserved_data_key(key: &str) -> bool {
    matches!(key, "from" | "notification" | "message_type") || key.starts_with("google.") || key.starts_with("gcm.")
}

/// A push notification: title and body, data for the app, and the options the original
/// set on every message (Android channel) plus the ones it lacked.
///
/// ```
/// use nets_runtime::push::Notification;
/// use serde_json::json;
///
/// let n = Notification::new("Order shipped", "Your order #42 is on its way")
///     .data("order_id", json!(42)) // sent as the string "42"
///     .data("tracking", json!({"carrier": "UPS"})) // sent as JSON text
///     .channel("orders")
///     .badge(3);
/// assert_eq!(n.data_strings()["order_id"], "42");
/// assert_eq!(n.data_strings()["tracking"], r#"{"carrier":"UPS"}"#);
/// ```
///
/// A notification with an empty title and body is data-only: no `notification` block,
/// and iOS gets it as a background (`content-available`) message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notification {
    /// The title shown.
    pub title: String,
    /// The text shown (the original's `message`).
    pub body: String,
    /// Data for the app. FCM takes only strings: strings are sent as they are, other JSON
    /// values as JSON text (the original sent them unconverted and FCM refused them).
    pub data: Map<String, Value>,
    /// Android notification channel (default: `NETS_CORE_PUSH_ANDROID_CHANNEL`, `default`).
    pub channel: Option<String>,
    /// URL of an image shown with the notification.
    pub image: Option<String>,
    /// Sound name (Android and iOS); `default` plays the device's default sound.
    pub sound: Option<String>,
    /// iOS badge number.
    pub badge: Option<u32>,
    /// Collapse key: a newer message with the same key replaces an undelivered older one.
    pub collapse_key: Option<String>,
    /// How long FCM keeps the message for an offline device, in seconds (FCM's default,
    /// four weeks, when unset).
    pub ttl_seconds: Option<u64>,
}

impl Notification {
    /// A notification with `title` and `body`.
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Notification {
        Notification { title: title.into(), body: body.into(), ..Notification::default() }
    }
    /// Adds a data entry (any JSON value; see [`data`](Notification::data)).
    pub fn data(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }
    /// Replaces the data with `data`'s entries.
    pub fn data_map(mut self, data: Map<String, Value>) -> Self {
        self.data = data;
        self
    }
    /// The Android channel.
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = Some(channel.into());
        self
    }
    /// An image URL.
    pub fn image(mut self, url: impl Into<String>) -> Self {
        self.image = Some(url.into());
        self
    }
    /// A sound name.
    pub fn sound(mut self, sound: impl Into<String>) -> Self {
        self.sound = Some(sound.into());
        self
    }
    /// The iOS badge.
    pub fn badge(mut self, badge: u32) -> Self {
        self.badge = Some(badge);
        self
    }
    /// A collapse key.
    pub fn collapse_key(mut self, key: impl Into<String>) -> Self {
        self.collapse_key = Some(key.into());
        self
    }
    /// How long FCM keeps the message for an offline device.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl_seconds = Some(ttl.as_secs());
        self
    }

    /// Whether it carries no visible part (data only).
    pub fn is_data_only(&self) -> bool {
        self.title.is_empty() && self.body.is_empty()
    }

    /// The data as FCM takes it: every value a string (strings as they are, other JSON
    /// values as JSON text, `null` as `"null"`).
    pub fn data_strings(&self) -> Map<String, Value> {
        self.data
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), Value::String(text))
            })
            .collect()
    }

    /// Refuses what FCM would refuse (reserved data keys, an oversized payload), so the
    /// caller learns it before anything is stored or sent.
    pub fn validate(&self) -> Result<(), SendError> {
        if let Some(key) = self.data.keys().find(|k| reserved_data_key(k) || k.is_empty()) {
            return Err(SendError::InvalidMessage(format!("data key {key:?} is reserved by FCM (or empty)")));
        }
        let size = self.title.len() + self.body.len() + Value::Object(self.data_strings()).to_string().len();
        if size > MAX_PAYLOAD_BYTES {
            return Err(SendError::InvalidMessage(format!(
                "the payload is {size} bytes; FCM takes at most {MAX_PAYLOAD_BYTES}"
            )));
        }
        Ok(())
    }
}

/// Android options from the settings (the original hard-coded them).
#[derive(Debug, Clone)]
pub(crate) struct AndroidDefaults {
    pub(crate) priority: String,
    pub(crate) icon: String,
    pub(crate) color: String,
    pub(crate) channel: String,
}

/// Where a message goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    Token(&'a str),
    Topic(&'a str),
}

/// The `messages:send` body: `{"message": {..}}` (FCM HTTP v1 reference).
pub(crate) fn message_body(target: Target<'_>, n: &Notification, android: &AndroidDefaults) -> Value {
    let mut message = Map::new();
    match target {
        Target::Token(token) => message.insert("token".into(), json!(token)),
        Target::Topic(topic) => message.insert("topic".into(), json!(topic)),
    };
    let data_only = n.is_data_only();
    if !data_only {
        let mut notification = json!({"title": n.title, "body": n.body});
        if let Some(image) = &n.image {
            notification["image"] = json!(image);
        }
        message.insert("notification".into(), notification);
    }
    if !n.data.is_empty() {
        message.insert("data".into(), Value::Object(n.data_strings()));
    }

    let mut android_block = json!({"priority": android.priority});
    if let Some(key) = &n.collapse_key {
        android_block["collapse_key"] = json!(key);
    }
    if let Some(ttl) = n.ttl_seconds {
        android_block["ttl"] = json!(format!("{ttl}s"));
    }
    if !data_only {
        let mut an = json!({
            "icon": android.icon,
            "color": android.color,
            "channel_id": n.channel.as_deref().filter(|c| !c.is_empty()).unwrap_or(&android.channel),
        });
        if let Some(sound) = &n.sound {
            an["sound"] = json!(sound);
        }
        android_block["notification"] = an;
    }
    message.insert("android".into(), android_block);

    // APNs: alerts go at priority 10; data-only messages must be background pushes
    // (priority 5, `content-available`), or iOS drops them.
    let mut aps = Map::new();
    let mut headers = Map::new();
    if data_only {
        aps.insert("content-available".into(), json!(1));
        headers.insert("apns-push-type".into(), json!("background"));
        headers.insert("apns-priority".into(), json!("5"));
    } else {
        aps.insert("sound".into(), json!(n.sound.as_deref().unwrap_or("default")));
        headers.insert("apns-push-type".into(), json!("alert"));
        headers.insert("apns-priority".into(), json!("10"));
    }
    if let Some(badge) = n.badge {
        aps.insert("badge".into(), json!(badge));
    }
    if let Some(key) = &n.collapse_key {
        headers.insert("apns-collapse-id".into(), json!(key));
    }
    if let Some(ttl) = n.ttl_seconds {
        let expires = chrono::Utc::now().timestamp().saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
        headers.insert("apns-expiration".into(), json!(expires.to_string()));
    }
    let mut apns = json!({"headers": headers, "payload": {"aps": aps}});
    if let (Some(image), false) = (&n.image, data_only) {
        apns["fcm_options"] = json!({"image": image});
    }
    message.insert("apns".into(), apns);
    json!({ "message": message })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn android() -> AndroidDefaults {
        AndroidDefaults {
            priority: "high".into(),
            icon: "ic_launcher".into(),
            color: "#f45342".into(),
            channel: "default".into(),
        }
    }

    #[test]
    fn the_message_keeps_the_original_android_options_and_adds_apns() {
        let n = Notification::new("Hi", "there").data("n", json!(5)).data("s", json!("x"));
        let body = message_body(Target::Token("tok"), &n, &android());
        let m = &body["message"];
        assert_eq!(m["token"], "tok");
        assert_eq!(m["notification"], json!({"title": "Hi", "body": "there"}));
        assert_eq!(m["data"], json!({"n": "5", "s": "x"}));
        assert_eq!(m["android"]["priority"], "high");
        assert_eq!(
            m["android"]["notification"],
            json!({"icon": "ic_launcher", "color": "#f45342", "channel_id": "default"})
        );
        assert_eq!(m["apns"]["payload"]["aps"]["sound"], "default");
        assert_eq!(m["apns"]["headers"]["apns-push-type"], "alert");
    }

    #[test]
    fn data_only_messages_are_background_pushes_on_ios() {
        let n = Notification::default().data("sync", json!(true)).badge(2);
        let body = message_body(Target::Topic("news"), &n, &android());
        let m = &body["message"];
        assert_eq!(m["topic"], "news");
        assert!(m.get("notification").is_none() && m["android"].get("notification").is_none());
        assert_eq!(m["apns"]["payload"]["aps"], json!({"content-available": 1, "badge": 2}));
        assert_eq!(m["apns"]["headers"]["apns-priority"], "5");
    }

    #[test]
    fn reserved_keys_and_oversized_payloads_are_refused_before_sending() {
        assert!(Notification::new("a", "b").data("google.x", json!(1)).validate().is_err());
        assert!(Notification::new("a", "b").data("from", json!(1)).validate().is_err());
        assert!(Notification::new("a", "b").data("big", json!("x".repeat(5000))).validate().is_err());
        assert!(Notification::new("a", "b").data("ok", json!(null)).validate().is_ok());
    }
}
