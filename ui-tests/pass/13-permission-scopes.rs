// Every way to say what a permission check means and where it is checked.
use nets_runtime::prelude::*;

#[derive(Debug, Clone, serde::Serialize, NetsModel)]
#[nets(table = "papers", owner = "user_id", project = "project_id")]
struct Paper {
    id: i64,
    user_id: i64,
    project_id: Option<i64>,
}

/// Soft mode, opted into: the handler reads the outcome.
#[request_handler(path = "board/", method = GET, public, can_do = "board.post", perm_optional)]
async fn board(ctx: Ctx) -> ApiResult<bool> {
    Ok(ctx.perm())
}

/// The owner, or a holder of `papers.read` in the paper's own project.
#[request_handler(path = "teams/{team}/papers/{id}/", method = GET, model = Paper, can_do = "papers.read", project = "team")]
async fn paper(team: i64, paper: Paper) -> ApiResult<i64> {
    let _ = team;
    Ok(paper.id)
}

/// Public objects, said so.
#[request_handler(path = "papers/{id}/", method = GET, public, model = Paper, public_objects)]
async fn public_paper(paper: Paper) -> ApiResult<Option<i64>> {
    Ok(paper.project_id)
}

fn main() {
    let paper = Paper { id: 1, user_id: 2, project_id: Some(3) };
    assert_eq!((paper.owner_id(), paper.project_id()), (Some(2), Some(3)));
    let routes = nets_runtime::route_registry();
    assert_eq!(routes.len(), 3);
}
