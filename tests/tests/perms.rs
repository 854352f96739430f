//! `check_perm` and the role helpers against a real database (SQLite, or PostgreSQL with
//! `NETS_TEST_DATABASE_URL`): the rules of the original's §5.3 with its defects fixed.

mod perms_common;

use nets_runtime::auth::AuthUser;
use nets_runtime::perms::{Perms, PermsError};
use nets_tests::db::test_db;
use perms_common::{ADA, BOB, CY, ROOT, count, exec, perms, seed};

/// Declared so that the startup registration has something to find.
mod api {
    use nets_runtime::prelude::*;

    #[request_handler(path = "perms/declared/", method = GET, can_do = ["Startup.Declared", "role:owner"], perm_required)]
    async fn declared() -> ApiResult<bool> {
        Ok(true)
    }
}

fn user(id: i64) -> AuthUser {
    AuthUser::new(id, format!("user{id}@example.com"))
}

async fn can(perms: &Perms, id: i64, action: &str, project: Option<i64>) -> bool {
    match perms.check_perm(&user(id), action, project).await {
        Ok(allowed) => allowed,
        Err(e) => panic!("check_perm({id}, {action}, {project:?}): {e}"),
    }
}

#[tokio::test]
async fn global_superusers_pass_everything_even_unknown_permissions() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    let root = AuthUser::new(ROOT, "root@example.com").superuser();
    for project in [None, Some(1), Some(2), Some(999)] {
        assert!(perms.check_perm(&root, "never.declared", project).await.unwrap());
        assert!(perms.check_perm(&root, "role:anything", project).await.unwrap());
    }
    // A superuser flag on the row is not what counts: the authenticated user's is.
    assert!(!can(&perms, ROOT, "never.declared", None).await);
}

#[tokio::test]
async fn global_roles_grant_globally_only_and_case_does_not_matter() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    perms.get_or_create_role_permission("auditor", "Reports.View").await.unwrap();
    assert!(perms.add_user_to_role(ADA, None, "auditor").await.unwrap());

    assert!(can(&perms, ADA, "reports.view", None).await);
    assert!(can(&perms, ADA, "REPORTS.VIEW", None).await);
    assert!(!can(&perms, ADA, "reports.edit", None).await);
    assert!(!can(&perms, BOB, "reports.view", None).await, "bob holds no role");
    // Global roles are not project roles: in a project only that project's roles count.
    assert!(!can(&perms, ADA, "reports.view", Some(1)).await);
    // `role:` needs a project membership.
    assert!(!can(&perms, ADA, "role:auditor", None).await);
}

#[tokio::test]
async fn project_roles_grant_in_their_project_only() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    perms.get_or_create_project_role_permission(1, "writer", "docs.edit").await.unwrap();
    perms.add_user_to_role(ADA, Some(1), "writer").await.unwrap();

    assert!(can(&perms, ADA, "docs.edit", Some(1)).await);
    assert!(can(&perms, ADA, "Docs.Edit", Some(1)).await);
    assert!(!can(&perms, ADA, "docs.delete", Some(1)).await);
    // No leakage: not in project 2 (where ada is a member too), not globally.
    assert!(!can(&perms, ADA, "docs.edit", Some(2)).await);
    assert!(!can(&perms, ADA, "docs.edit", None).await);
    // A project that does not exist grants nothing.
    assert!(!can(&perms, ADA, "docs.edit", Some(999)).await);
}

#[tokio::test]
async fn memberships_decide_first_superuser_disabled_and_non_member() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    // cy is a disabled project superuser of Apollo, and holds a role there too.
    perms.get_or_create_project_role_permission(1, "writer", "docs.edit").await.unwrap();
    perms.add_user_to_role(CY, Some(1), "writer").await.unwrap();
    assert!(!can(&perms, CY, "docs.edit", Some(1)).await, "a disabled membership grants nothing");
    assert!(!can(&perms, CY, "role:editor", Some(1)).await);

    // bob is an enabled project superuser of Apollo: everything there, nothing in Gemini.
    assert!(can(&perms, BOB, "docs.edit", Some(1)).await);
    assert!(can(&perms, BOB, "anything.at_all", Some(1)).await);
    assert!(!can(&perms, BOB, "docs.edit", Some(2)).await, "not a member of Gemini");

    // A role held in a project without a membership grants nothing (cy has none in Gemini).
    perms.get_or_create_project_role_permission(2, "writer", "docs.edit").await.unwrap();
    perms.add_user_to_role(CY, Some(2), "writer").await.unwrap();
    assert!(!can(&perms, CY, "docs.edit", Some(2)).await);
}

#[tokio::test]
async fn role_checks_compare_the_members_role_name() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    // ada is "Editor" in Apollo (a text column) and has no role in Gemini.
    assert!(can(&perms, ADA, "role:editor", Some(1)).await);
    assert!(can(&perms, ADA, "role:EDITOR", Some(1)).await);
    assert!(!can(&perms, ADA, "role:viewer", Some(1)).await);
    assert!(!can(&perms, ADA, "role:editor", Some(2)).await, "no role is a plain no, not an error");
    assert!(!can(&perms, ADA, "role:editor", None).await);
}

#[tokio::test]
async fn disabled_roles_grant_nothing_anywhere_until_enabled_again() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    perms.get_or_create_project_role_permission(1, "writer", "docs.edit").await.unwrap();
    perms.add_user_to_role(ADA, Some(1), "writer").await.unwrap();
    perms.get_or_create_role_permission("auditor", "reports.view").await.unwrap();
    perms.add_user_to_role(ADA, None, "auditor").await.unwrap();
    assert!(can(&perms, ADA, "docs.edit", Some(1)).await && can(&perms, ADA, "reports.view", None).await);

    assert!(perms.set_role_enabled(Some(1), "writer", false).await.unwrap());
    assert!(perms.set_role_enabled(None, "auditor", false).await.unwrap());
    assert!(!can(&perms, ADA, "docs.edit", Some(1)).await, "the original still granted here");
    assert!(!can(&perms, ADA, "reports.view", None).await);

    perms.set_role_enabled(Some(1), "writer", true).await.unwrap();
    assert!(can(&perms, ADA, "docs.edit", Some(1)).await);
    assert!(!perms.set_role_enabled(Some(1), "no-such-role", false).await.unwrap());
}

#[tokio::test]
async fn unknown_permissions_are_denied_every_time_and_never_created() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    for _ in 0..3 {
        assert!(!can(&perms, ADA, "ghost.action", None).await);
        assert!(!can(&perms, ADA, "Ghost.Action", Some(1)).await);
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM nets_permission").await, 0);
    // A project superuser passes, the first time as every time.
    assert!(can(&perms, BOB, "ghost.action", Some(1)).await);
}

#[tokio::test]
async fn invalid_codenames_and_names_are_refused() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    for bad in ["", "a.b.c", "docs edit", "docs.", "x'; DROP TABLE nets_role; --"] {
        let err = perms.check_perm(&user(ADA), bad, None).await.unwrap_err();
        assert!(matches!(err, PermsError::InvalidCodename(_)), "{bad:?}: {err}");
        assert!(perms.register_permission(bad, None, None).await.is_err());
    }
    assert!(matches!(perms.register_permission("role:admin", None, None).await, Err(PermsError::InvalidCodename(_))));
    assert!(matches!(perms.get_or_create_role("   ").await, Err(PermsError::InvalidRoleName(_))));
    let err = perms.check_perm(&user(ADA), "a.b.c", None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid permission codename 'a.b.c': write 'action' or 'app.action' (letters, digits, '_' and '-')"
    );
}

#[tokio::test]
async fn helpers_are_idempotent_and_check_users_and_projects() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    let (role, created) = perms.get_or_create_project_role(1, "editor").await.unwrap();
    assert!(created);
    assert_eq!((role.name.as_str(), role.project_id, role.enabled), ("editor", Some(1), true));
    let (again, created) = perms.get_or_create_project_role(1, "editor").await.unwrap();
    assert!(!created && again.id == role.id);
    // Same name, other project or global: other roles.
    let (other, created) = perms.get_or_create_project_role(2, "editor").await.unwrap();
    assert!(created && other.id != role.id);
    let (global, created) = perms.get_or_create_role("editor").await.unwrap();
    assert!(created && global.project_id.is_none());

    let (permission, created) =
        perms.get_or_create_project_role_permission(1, "editor", "docs.can_publish").await.unwrap();
    assert!(created);
    assert_eq!((permission.codename.as_str(), permission.name.as_str()), ("docs.can_publish", "Can publish"));
    let (_, created) = perms.get_or_create_project_role_permission(1, "editor", "DOCS.CAN_PUBLISH").await.unwrap();
    assert!(!created);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM nets_role_permission").await, 1);

    assert!(perms.add_user_to_role(ADA, Some(1), "editor").await.unwrap());
    assert!(!perms.add_user_to_role(ADA, Some(1), "editor").await.unwrap());
    assert!(perms.remove_user_from_role(ADA, Some(1), "editor").await.unwrap());
    assert!(!perms.remove_user_from_role(ADA, Some(1), "editor").await.unwrap());
    assert!(!perms.remove_user_from_role(ADA, Some(1), "never-created").await.unwrap());

    assert!(matches!(perms.get_or_create_project_role(999, "editor").await, Err(PermsError::UnknownProject(999))));
    assert!(matches!(perms.add_user_to_role(404, None, "editor").await, Err(PermsError::UnknownUser(404))));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM nets_role WHERE project_id = 999").await, 0);
}

#[tokio::test]
async fn revoking_takes_effect_on_the_next_check() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    perms.get_or_create_project_role_permission(1, "writer", "docs.edit").await.unwrap();
    perms.add_user_to_role(ADA, Some(1), "writer").await.unwrap();
    assert!(can(&perms, ADA, "docs.edit", Some(1)).await);
    perms.remove_user_from_role(ADA, Some(1), "writer").await.unwrap();
    assert!(!can(&perms, ADA, "docs.edit", Some(1)).await);

    perms.add_user_to_role(ADA, Some(1), "writer").await.unwrap();
    assert!(can(&perms, ADA, "docs.edit", Some(1)).await);
    assert!(perms.revoke_role_permission(Some(1), "writer", "docs.edit").await.unwrap());
    assert!(!can(&perms, ADA, "docs.edit", Some(1)).await);
}

#[tokio::test]
async fn checks_are_cached_until_something_changes() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "").await;
    perms.get_or_create_project_role_permission(1, "writer", "docs.edit").await.unwrap();
    perms.add_user_to_role(ADA, Some(1), "writer").await.unwrap();
    assert!(can(&perms, ADA, "docs.edit", Some(1)).await);

    // Behind nets' back: the cached answer stands (no query was made)...
    exec(&db, "DELETE FROM app_member WHERE user_id = 1 AND project_id = 1").await;
    exec(&db, "DELETE FROM nets_user_role").await;
    assert!(can(&perms, ADA, "docs.edit", Some(1)).await);
    // ...until the application says so.
    perms.invalidate().await.unwrap();
    assert!(!can(&perms, ADA, "docs.edit", Some(1)).await);
}

#[tokio::test]
async fn with_caching_off_every_check_reads_the_database() {
    let db = test_db().await;
    seed(&db).await;
    let perms = perms(&db, "NETS_CORE_PERMISSIONS_CACHE_SECONDS = 0").await;
    perms.get_or_create_project_role_permission(1, "writer", "docs.edit").await.unwrap();
    perms.add_user_to_role(ADA, Some(1), "writer").await.unwrap();
    assert!(can(&perms, ADA, "docs.edit", Some(1)).await);
    exec(&db, "DELETE FROM nets_user_role").await;
    assert!(!can(&perms, ADA, "docs.edit", Some(1)).await);
}

#[tokio::test]
async fn a_membership_role_can_reference_a_role_row() {
    let db = test_db().await;
    seed(&db).await;
    let settings =
        nets_tests::settings("NETS_CORE_PROJECT_MODEL = 'ref_project'\nNETS_CORE_PROJECT_MEMBER_MODEL = 'ref_member'");
    let perms = Perms::from_settings(&settings, &db).await.unwrap();
    let (reviewer, _) = perms.get_or_create_project_role(1, "Reviewer").await.unwrap();
    let (stranger, _) = perms.get_or_create_project_role(2, "Stranger").await.unwrap();
    let sql = format!(
        "INSERT INTO ref_member (project_id, user_id, role_id) VALUES (1, 1, {}), (1, 2, {}), (2, 1, NULL)",
        reviewer.id, stranger.id
    );
    match &*db {
        nets_runtime::db::Db::Sqlite(pool) => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await.map(|_| ()),
        nets_runtime::db::Db::Postgres(pool) => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await.map(|_| ()),
    }
    .unwrap();
    perms.invalidate().await.unwrap();

    assert!(can(&perms, ADA, "role:reviewer", Some(1)).await);
    assert!(!can(&perms, ADA, "role:reviewer", Some(2)).await);
    // A role of another project is no role here.
    assert!(!can(&perms, BOB, "role:stranger", Some(1)).await);
    // A disabled role is no role either.
    perms.set_role_enabled(Some(1), "Reviewer", false).await.unwrap();
    assert!(!can(&perms, ADA, "role:reviewer", Some(1)).await);
}

#[tokio::test]
async fn project_tables_are_checked_at_startup() {
    let db = test_db().await;
    seed(&db).await;
    let check = |project: &str, member: &str| {
        let toml = format!("NETS_CORE_PROJECT_MODEL = '{project}'\nNETS_CORE_PROJECT_MEMBER_MODEL = '{member}'");
        nets_tests::settings(&toml)
    };
    let err = Perms::from_settings(&check("no_such_table", "app_member"), &db).await.unwrap_err();
    assert_eq!(err.to_string(), "project tables: no table 'no_such_table'");
    let err = Perms::from_settings(&check("app_project", "app_project"), &db).await.unwrap_err();
    assert_eq!(err.to_string(), "project tables: table 'app_project' has no column 'project_id'");
    let err = nets_runtime::Settings::from_toml(
        "NETS_CORE_PROJECT_MODEL = 'app.Project'\nNETS_CORE_PROJECT_MEMBER_MODEL = 'm'",
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("NETS_CORE_PROJECT_MODEL 'app.Project' is not a table name"), "{err}");

    // Projects are optional; project-scoped operations then say what is missing.
    let plain = Perms::from_settings(&nets_tests::settings(""), &db).await.unwrap();
    assert!(matches!(plain.get_or_create_project_role(1, "x").await, Err(PermsError::ProjectsNotConfigured)));
    assert!(plain.check_perm(&user(ADA), "docs.edit", Some(1)).await.is_err());
}

#[tokio::test]
async fn declared_permissions_are_verified_or_registered_at_startup() {
    let db = test_db().await;
    seed(&db).await;
    let err = Perms::from_settings(&perms_common::settings("NETS_CORE_PERMISSIONS_STARTUP = 'verify'"), &db)
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("handlers declare permissions that do not exist in nets_permission: 'startup.declared' ("),
        "{message}"
    );
    assert!(message.contains("perms::api::declared at tests/tests/perms.rs:"), "{message}");
    assert!(!message.contains("role:"), "role checks are not permissions: {message}");

    let perms = perms(&db, "NETS_CORE_PERMISSIONS_STARTUP = 'register'").await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM nets_permission WHERE codename = 'startup.declared'").await, 1);
    assert_eq!(perms.register_declared().await.unwrap(), Vec::<String>::new(), "registering twice creates nothing");
    Perms::from_settings(&perms_common::settings("NETS_CORE_PERMISSIONS_STARTUP = 'verify'"), &db).await.unwrap();
}

/// Issue 17: the original's `ProjectMember.role` is a foreign key to the app's own
/// `ProjectRole` table; settings say so, and the role's name answers `role:` checks
/// as a text role column does.
#[tokio::test]
async fn a_membership_role_can_reference_the_applications_role_table() {
    let db = test_db().await;
    seed(&db).await;
    exec(&db, "CREATE TABLE app_role (id BIGINT PRIMARY KEY, title VARCHAR(50) NOT NULL, enabled BOOLEAN NOT NULL)")
        .await;
    exec(&db, "CREATE TABLE app_role_member (project_id BIGINT NOT NULL, user_id BIGINT NOT NULL, role_id BIGINT)")
        .await;
    exec(&db, "INSERT INTO app_role (id, title, enabled) VALUES (1, 'Reviewer', TRUE), (2, 'Retired', FALSE)").await;
    exec(&db, "INSERT INTO app_role_member (project_id, user_id, role_id) VALUES (1, 1, 1), (1, 2, 2), (2, 1, NULL)")
        .await;
    let toml = "NETS_CORE_PROJECT_MODEL = 'app_project'\nNETS_CORE_PROJECT_MEMBER_MODEL = 'app_role_member'\n\
                NETS_CORE_PROJECT_ROLE_MODEL = 'app_role'\nNETS_CORE_PROJECT_ROLE_NAME_FIELD = 'title'";
    let perms = Perms::from_settings(&nets_tests::settings(toml), &db).await.unwrap();

    assert!(can(&perms, ADA, "role:reviewer", Some(1)).await);
    assert!(!can(&perms, ADA, "role:reviewer", Some(2)).await, "no role in Gemini");
    assert!(!can(&perms, BOB, "role:retired", Some(1)).await, "a disabled app role is no role");
    assert!(!can(&perms, BOB, "role:reviewer", Some(1)).await);

    // Misconfigurations fail at startup, naming what is missing.
    let fails = |toml: &str| {
        let settings = nets_tests::settings(&format!(
            "NETS_CORE_PROJECT_MODEL = 'app_project'\nNETS_CORE_PROJECT_MEMBER_MODEL = 'app_role_member'\n{toml}"
        ));
        let db = db.clone();
        async move { Perms::from_settings(&settings, &db).await.unwrap_err().to_string() }
    };
    assert_eq!(fails("NETS_CORE_PROJECT_ROLE_MODEL = 'no_roles'").await, "project tables: no role table 'no_roles'");
    assert_eq!(
        fails("NETS_CORE_PROJECT_ROLE_MODEL = 'app_role'").await,
        "project tables: table 'app_role' has no column 'name'"
    );
    let member_without_role_id = nets_tests::settings(
        "NETS_CORE_PROJECT_MODEL = 'app_project'\nNETS_CORE_PROJECT_MEMBER_MODEL = 'app_member'\n\
         NETS_CORE_PROJECT_ROLE_MODEL = 'app_role'\nNETS_CORE_PROJECT_ROLE_NAME_FIELD = 'title'",
    );
    let err = Perms::from_settings(&member_without_role_id, &db).await.unwrap_err().to_string();
    assert_eq!(err, "project tables: table 'app_member' has no column 'role_id'");
    assert!(nets_runtime::Settings::from_toml("NETS_CORE_PROJECT_ROLE_MODEL = 'app.Role'").is_err());
}
