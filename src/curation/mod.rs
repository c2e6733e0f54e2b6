//! The write side. Every change to the directory goes through here, from the API and from
//! the command line alike: validation and business rules, the store's transaction with
//! its audit entry, and, on a server, the snapshot refresh, so that a change is public
//! before its author hears of it. Handlers and CLI commands only translate in and out.

pub mod activities;
pub mod api_keys;
pub mod assets;
pub mod imports;
pub mod sources;
pub mod suggestions;
pub mod users;

use crate::domain::Asset;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::assets::Written;
use crate::store::DbConnection;

/// Runs a write on the server's store, then refreshes its snapshot.
fn committed<T>(
    state: &AppState,
    write: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    // The connection goes back to the pool before the refresh takes one.
    let out = write(&mut *state.store.conn()?)?;
    state.refresh()?;
    Ok(out)
}

/// Runs a write of one asset ([`crate::store::assets::modify`]), then makes it public:
/// when it changed that asset only, by applying it to the snapshot without reading it back
/// (see [`AppState::applied`]); otherwise by a refresh.
fn committed_asset(
    state: &AppState,
    write: impl FnOnce(&mut DbConnection) -> Result<(Asset, Written), ApiError>,
) -> Result<Asset, ApiError> {
    let (asset, written) = write(&mut *state.store.conn()?)?;
    match written {
        Written::Only { seq, after } => state.applied(seq, after, &asset)?,
        Written::Nothing | Written::More => {
            state.refresh()?;
        }
    }
    Ok(asset)
}
