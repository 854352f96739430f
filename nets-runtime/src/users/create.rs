//! Creating users from code (Django's `create_user` / `create_superuser`): seeding,
//! imports, admin commands. Accounts of people logging in are created by `/authenticate/`.

use crate::Email;
use crate::db::Db;

/// A user to create with [`create_user`].
///
/// ```no_run
/// # async fn demo(db: &nets_runtime::db::Db) -> Result<(), nets_runtime::users::CreateUserError> {
/// use nets_runtime::Email;
/// use nets_runtime::users::{NewUser, create_user};
///
/// let email = Email::parse("ada@example.com").expect("an address");
/// let id = create_user(db, NewUser::new(email).first_name("Ada").verified()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewUser {
    /// The address (unique, whatever its case).
    pub email: Email,
    /// A username (unique, whatever its case), for `NETS_CORE_USER_IDENTIFIER = "username"`.
    pub username: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Whether the address is known to be the user's.
    pub email_verified: bool,
    /// Staff (Django's admin flag).
    pub is_staff: bool,
    /// Every permission, everywhere.
    pub is_superuser: bool,
}

impl NewUser {
    /// An active, unverified, unprivileged user with this address.
    pub fn new(email: Email) -> NewUser {
        NewUser {
            email,
            username: None,
            first_name: String::new(),
            last_name: String::new(),
            email_verified: false,
            is_staff: false,
            is_superuser: false,
        }
    }

    /// Sets the username.
    pub fn username(mut self, username: impl Into<String>) -> NewUser {
        self.username = Some(username.into());
        self
    }

    /// Sets the first name.
    pub fn first_name(mut self, name: impl Into<String>) -> NewUser {
        self.first_name = name.into();
        self
    }

    /// Sets the last name.
    pub fn last_name(mut self, name: impl Into<String>) -> NewUser {
        self.last_name = name.into();
        self
    }

    /// Marks the address verified.
    pub fn verified(mut self) -> NewUser {
        self.email_verified = true;
        self
    }

    /// Makes the user a superuser and staff, with a verified address.
    pub fn superuser(mut self) -> NewUser {
        self.is_superuser = true;
        self.is_staff = true;
        self.email_verified = true;
        self
    }
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateUserError {
    /// The address or the username belongs to another user.
    #[error("a user with this e-mail address or username exists")]
    Exists,
    /// The username is empty or longer than 150 characters.
    #[error("the username must be 1 to 150 characters")]
    Username,
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// Creates `user`; its id. The address is stored lower-cased; an existing address or
/// username (compared without case) is [`CreateUserError::Exists`], and nothing changes.
pub async fn create_user(db: &Db, user: NewUser) -> Result<i64, CreateUserError> {
    let username = user.username.as_deref().map(str::trim);
    if username.is_some_and(|u| u.is_empty() || u.chars().count() > 150) {
        return Err(CreateUserError::Username);
    }
    const SQL: &str = "INSERT INTO nets_user \
         (email, username, first_name, last_name, email_verified, is_staff, is_superuser) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    let inserted: Result<i64, sqlx::Error> = crate::on_pool!(db, |pool| sqlx::query_scalar(SQL)
        .bind(user.email.as_str())
        .bind(username)
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(user.email_verified)
        .bind(user.is_staff)
        .bind(user.is_superuser)
        .fetch_one(pool)
        .await);
    inserted.map_err(|e| match e.as_database_error() {
        // The address or username indexes; a clash of ids (a PostgreSQL sequence left
        // behind by rows inserted with explicit ids) stays a database error.
        Some(d) if d.is_unique_violation() && !d.constraint().is_some_and(|c| c.ends_with("_pkey")) => {
            CreateUserError::Exists
        }
        _ => CreateUserError::Db(e),
    })
}

/// Creates a superuser with this address (and username), or makes the existing user with
/// this address one; `(id, created)`. A username that belongs to someone else is
/// [`CreateUserError::Exists`]. Cached bearer lookups carry the superuser flag: drop them
/// ([`OAuth::invalidate_tokens`](crate::oauth::OAuth::invalidate_tokens)) after a promotion.
pub async fn create_superuser(db: &Db, email: Email, username: Option<String>) -> Result<(i64, bool), CreateUserError> {
    let mut user = NewUser::new(email.clone()).superuser();
    user.username = username;
    match create_user(db, user).await {
        Ok(id) => Ok((id, true)),
        Err(CreateUserError::Exists) => {
            const PROMOTE: &str =
                "UPDATE nets_user SET is_superuser = TRUE, is_staff = TRUE WHERE lower(email) = $1 RETURNING id";
            let promoted: Option<i64> = crate::on_pool!(db, |pool| sqlx::query_scalar(PROMOTE)
                .bind(email.as_str())
                .fetch_optional(pool)
                .await?);
            // Not inserted and no such address: the username is someone else's.
            promoted.map(|id| (id, false)).ok_or(CreateUserError::Exists)
        }
        Err(e) => Err(e),
    }
}
