//! `POST /login/`: a one-time code for an identifier, sent by e-mail.
//!
//! The answer must not tell whether an account exists, by its body or by its timing.
//! So before answering, a login only *reads*, and reads the same rows whether or not
//! there is an account (a missing account looks up user id 0, which no row has). Every
//! write (saving the device, storing the code, sending the e-mail) happens after the
//! answer, in a task of its own. A login never creates an account: for an identifier
//! without one, the code is kept under the identifier, with the address it goes to and
//! the device, and the first successful `/authenticate/` creates the account (so
//! nobody can make rows for, or squat, addresses they cannot read). A real code reaches its user
//! only through the e-mail that task sends after storing it, so no client can present it
//! before it is stored. Fixed codes (the debug code, testers) are known in advance, so
//! those logins write before answering; they are development and store-review accounts.
//!
//! With `NETS_CORE_USER_IDENTIFIER = "username"` the code still goes by e-mail: to the
//! account's stored address, or, for a username not yet taken, to the `email` the request
//! carries, which becomes the new account's address when that code is used (the one
//! field besides the identifier an account is created with). Neither the username nor the
//! address is reserved before then. An `email` sent for an existing username is ignored,
//! so nobody can redirect another account's codes; a new username whose `email` belongs
//! to another account gets no code. All of these get the same answer.

use serde_json::Value;

use super::devices::{self, DeviceInput, DeviceRow};
use super::{Accounts, input};
use crate::db::Db;
use crate::oauth::on_pool;
use crate::params::Email;
use crate::users::Identifier;
use crate::{ApiError, Ctx};

impl Accounts {
    /// `POST /login/`: the identifier, on username logins a new account's `email`, and
    /// the `device` → the device's uuid once the code is on its way (see the module notes).
    pub(super) async fn login(
        &self,
        ctx: &Ctx,
        identifier: &str,
        email: Option<&str>,
        device: Option<&Value>,
    ) -> Result<Option<uuid::Uuid>, ApiError> {
        let request = LoginRequest::read(self, identifier, email, device)?;
        let ip = ctx.client_ip();
        let client = self.client_key(ctx);
        let (limits, cache) = (&self.0.limits, &self.0.cache);
        limits.login_per_ip.hit(cache, &client).await?;
        // Per identifier *and* address, so nobody elsewhere can lock the owner out; the
        // ceiling bounds the codes one address is sent from everywhere together.
        limits.login_per_identifier.hit(cache, &format!("{}|{client}", request.identifier)).await?;
        limits.login_identifier_ceiling.hit(cache, &request.identifier).await?;

        let db = self.0.oauth.db();
        let kind = self.0.users.identifier();
        let account = find_account(db, kind, &request.identifier).await?;
        let user = account.as_ref().filter(|a| a.active).map(|a| a.id);
        let device = match request.device {
            Some(input) => Some((devices::choose(db, user, &input).await?, input)),
            None => None,
        };
        let device_uuid = device.as_ref().map(|(row, _)| row.uuid());
        let target = match account {
            Some(Account { id, email, active: true }) => Target::Account { id, address: email },
            Some(_) => Target::Nobody,
            None => match (kind, request.new_address) {
                (Identifier::Email, _) => Target::Create { address: request.identifier.clone() },
                (Identifier::Username, Some(address)) => Target::Create { address },
                (Identifier::Username, None) => Target::Nobody,
            },
        };
        let existing = matches!(target, Target::Account { .. });
        let (code, fixed) = self.new_code(target.address().unwrap_or(&request.identifier), existing);
        let issue = Issue { target, identifier: request.identifier, device, code, ip: ip.map(|ip| ip.to_string()) };
        if fixed {
            issue.run(self, false).await?;
        } else {
            let accounts = self.clone();
            // Tracked by the app, so a shutdown right after the answer still sends the code.
            ctx.app.spawn(async move {
                if let Err(error) = issue.run(&accounts, true).await {
                    tracing::error!(%error, "login: the code could not be issued");
                }
            });
        }
        Ok(device_uuid)
    }
}

/// What a login request says, checked.
struct LoginRequest {
    /// Normalised: e-mails lower-cased, usernames trimmed.
    identifier: String,
    /// Username logins: the address for a new account.
    new_address: Option<String>,
    device: Option<DeviceInput>,
}

impl LoginRequest {
    fn read(
        accounts: &Accounts,
        identifier: &str,
        email: Option<&str>,
        device: Option<&Value>,
    ) -> Result<LoginRequest, ApiError> {
        input::limit(accounts.0.users.identifier().column(), identifier, 254)?;
        let identifier = accounts.normalize_identifier(identifier)?;
        let new_address = match (accounts.0.users.identifier(), email.map(str::trim)) {
            (Identifier::Username, Some(text)) if !text.is_empty() => Some(
                Email::parse(text)
                    .filter(|e| e.as_str().len() <= 254)
                    .ok_or_else(|| ApiError::field("email", "invalid e-mail"))?
                    .into_string(),
            ),
            _ => None,
        };
        let device = input::object("device", device)?.map(|d| DeviceInput::parse(&d)).transpose()?;
        Ok(LoginRequest { identifier, new_address, device })
    }
}

struct Account {
    id: i64,
    email: String,
    active: bool,
}

/// The account an identifier names, active or not: one indexed read.
async fn find_account(db: &Db, kind: Identifier, identifier: &str) -> Result<Option<Account>, ApiError> {
    let sql = match kind {
        Identifier::Email => "SELECT id, email, is_active FROM nets_user WHERE lower(email) = $1",
        Identifier::Username => "SELECT id, email, is_active FROM nets_user WHERE lower(username) = lower($1)",
    };
    let row: Option<(i64, String, bool)> =
        on_pool!(db, |pool| sqlx::query_as(sql).bind(identifier).fetch_optional(pool).await)
            .map_err(ApiError::internal)?;
    Ok(row.map(|(id, email, active)| Account { id, email, active }))
}

/// Who the code is for.
enum Target {
    /// An active account, and its address.
    Account { id: i64, address: String },
    /// No account yet: create it with the identifier (and this address).
    Create { address: String },
    /// An inactive account, or a username login with no address: nobody.
    Nobody,
}

impl Target {
    fn address(&self) -> Option<&str> {
        match self {
            Target::Account { address, .. } | Target::Create { address } => Some(address),
            Target::Nobody => None,
        }
    }
}

/// The writes of a login, done after the answer for real codes.
struct Issue {
    target: Target,
    identifier: String,
    device: Option<(DeviceRow, DeviceInput)>,
    code: String,
    ip: Option<String>,
}

impl Issue {
    async fn run(self, accounts: &Accounts, send: bool) -> Result<(), ApiError> {
        let db = accounts.0.oauth.db();
        let kind = accounts.0.users.identifier();
        let (user, address) = match self.target {
            Target::Account { id, address } => (id, address),
            Target::Create { address } => {
                // No account is written here: the code is kept under the identifier and
                // the first successful `/authenticate/` creates the account. A username
                // login whose address another account has gets no code (it could never
                // create the account); nothing is reserved until then.
                if matches!(kind, Identifier::Username) && address_taken(db, &address).await? {
                    return Ok(());
                }
                let device = self.device.as_ref().map(|(row, input)| input.to_pending(row.uuid()));
                accounts.store_pending_code(&self.identifier, &address, device, &self.code, self.ip).await?;
                if send {
                    accounts.send_code(&address, &self.code).await;
                }
                return Ok(());
            }
            Target::Nobody => return Ok(()),
        };
        let device = match &self.device {
            Some((row, input)) => Some(devices::save(db, user, *row, input).await?),
            None => None,
        };
        accounts.store_code(user, device, &self.code, self.ip).await?;
        if send {
            accounts.send_code(&address, &self.code).await;
        }
        Ok(())
    }
}

/// Whether an account holds `address`.
async fn address_taken(db: &Db, address: &str) -> Result<bool, ApiError> {
    let found: Option<i64> =
        on_pool!(db, |pool| sqlx::query_scalar("SELECT id FROM nets_user WHERE lower(email) = lower($1)")
            .bind(address)
            .fetch_optional(pool)
            .await)
        .map_err(ApiError::internal)?;
    Ok(found.is_some())
}
