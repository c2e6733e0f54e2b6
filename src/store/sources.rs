//! The source registry, the source records linking assets to the lists that describe
//! them, and each asset's field origins (see `domain::source` for the merge rule).

use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

use super::schema::{assets, source_records, sources};
use super::{audit, ChangeSeq, DbConnection, StoreError};
use crate::domain::{AssetFields, Origins, Source, SourceRef};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sources)]
#[diesel(treat_none_as_null = true)]
struct SourceRow {
    name: String,
    title: Option<String>,
    licence: Option<String>,
    attribution: Option<String>,
    url: Option<String>,
    priority: i32,
    field_priorities: String,
    created_at: i64,
    updated_at: i64,
}

impl SourceRow {
    fn into_source(self, records: i64) -> Source {
        Source {
            field_priorities: serde_json::from_str(&self.field_priorities).unwrap_or_default(),
            name: self.name,
            title: self.title,
            licence: self.licence,
            attribution: self.attribution,
            url: self.url,
            priority: self.priority,
            records,
        }
    }

    fn from_source(s: &Source, created_at: i64, updated_at: i64) -> Self {
        SourceRow {
            name: s.name.clone(),
            title: s.title.clone(),
            licence: s.licence.clone(),
            attribution: s.attribution.clone(),
            url: s.url.clone(),
            priority: s.priority,
            field_priorities: serde_json::to_string(&s.field_priorities)
                .unwrap_or_else(|_| "{}".into()),
            created_at,
            updated_at,
        }
    }
}

/// A record of a source, as stored.
#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = source_records)]
pub struct Record {
    pub source: String,
    pub source_id: String,
    pub asset_id: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    /// What the source last gave (JSON asset fields).
    pub fields: String,
}

impl Record {
    pub fn new(row: &AssetFields, asset_id: Uuid, now: i64) -> Self {
        Record {
            source: row.source.clone().unwrap_or_default(),
            source_id: row.source_id.clone().unwrap_or_default(),
            asset_id: asset_id.to_string(),
            first_seen_at: now,
            last_seen_at: now,
            fields: serde_json::to_string(row).unwrap_or_else(|_| "{}".into()),
        }
    }

    pub fn key(&self) -> (String, String) {
        (self.source.clone(), self.source_id.clone())
    }
}

/// Every registered source with its count of records, by name.
pub fn list(conn: &mut DbConnection) -> Result<Vec<Source>, StoreError> {
    let counts: HashMap<String, i64> = source_records::table
        .group_by(source_records::source)
        .select((source_records::source, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let rows: Vec<SourceRow> = sources::table
        .select(SourceRow::as_select())
        .order(sources::name)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = counts.get(&r.name).copied().unwrap_or(0);
            r.into_source(n)
        })
        .collect())
}

/// Every registered source by name (without record counts).
pub fn registry(conn: &mut DbConnection) -> Result<HashMap<String, Source>, StoreError> {
    let rows: Vec<SourceRow> = sources::table.select(SourceRow::as_select()).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.name.clone(), r.into_source(0)))
        .collect())
}

/// Creates or replaces a source's description, audited. Returns it and whether it is new.
pub fn put(
    conn: &mut DbConnection,
    source: &Source,
    username: &str,
) -> Result<(Source, bool), StoreError> {
    conn.transaction(|c| {
        super::bump_version(c)?;
        let now = super::now().timestamp_micros();
        let old: Option<SourceRow> = sources::table
            .find(&source.name)
            .select(SourceRow::as_select())
            .first(c)
            .optional()?;
        let created = old.is_none();
        let row = SourceRow::from_source(source, old.map_or(now, |o| o.created_at), now);
        if created {
            diesel::insert_into(sources::table)
                .values(&row)
                .execute(c)?;
        } else {
            diesel::update(sources::table.find(&source.name))
                .set(&row)
                .execute(c)?;
        }
        let records: i64 = source_records::table
            .filter(source_records::source.eq(&source.name))
            .count()
            .get_result(c)?;
        let stored = row.into_source(records);
        audit::record_event(c, username, "source.put", &serde_json::json!(stored))?;
        Ok((stored, created))
    })
}

/// Registers the sources of `names` that are not registered yet, with nothing known about
/// them (an import named them). Returns the names registered.
pub fn register_unknown(
    conn: &mut DbConnection,
    names: &[String],
    known: &HashMap<String, Source>,
) -> Result<Vec<String>, StoreError> {
    let now = super::now().timestamp_micros();
    let mut added = Vec::new();
    for name in names.iter().filter(|n| !known.contains_key(*n)) {
        let row = SourceRow::from_source(&Source::unknown(name), now, now);
        diesel::insert_into(sources::table)
            .values(&row)
            .execute(conn)?;
        added.push(name.clone());
    }
    Ok(added)
}

/// Links an asset a person created or re-keyed to the record its `source` and
/// `source_id` name (both set), registering the source if it is new. A key another asset
/// has is refused by the records' primary key (a 409 that names it).
pub fn link_edited(
    conn: &mut DbConnection,
    seq: ChangeSeq,
    asset: &crate::domain::Asset,
) -> Result<(), StoreError> {
    let f = &asset.fields;
    let (Some(source), Some(_)) = (&f.source, &f.source_id) else {
        return Ok(());
    };
    let known = registry(conn)?;
    register_unknown(conn, std::slice::from_ref(source), &known)?;
    let now = super::now().timestamp_micros();
    insert_records(conn, seq, &[Record::new(f, asset.id, now)])
}

/// The records with the given keys, by key.
pub fn records_by_key(
    conn: &mut DbConnection,
    keys: &[(String, String)],
) -> Result<HashMap<(String, String), Record>, StoreError> {
    let mut by_source: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (s, id) in keys {
        by_source.entry(s).or_default().push(id);
    }
    let mut found = HashMap::new();
    for (source, ids) in by_source {
        for chunk in ids.chunks(500) {
            let rows: Vec<Record> = source_records::table
                .filter(source_records::source.eq(source))
                .filter(source_records::source_id.eq_any(chunk))
                .select(Record::as_select())
                .load(conn)?;
            found.extend(rows.into_iter().map(|r| (r.key(), r)));
        }
    }
    Ok(found)
}

/// A page of one source's records, by `source_id`: the first `limit` after `after`.
pub fn records_of_source_page(
    conn: &mut DbConnection,
    source: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Record>, StoreError> {
    let mut q = source_records::table
        .filter(source_records::source.eq(source))
        .select(Record::as_select())
        .order(source_records::source_id)
        .limit(limit)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(source_records::source_id.gt(a));
    }
    Ok(q.load(conn)?)
}

/// The records of the given assets, by asset id.
pub fn records_of_assets(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, Vec<Record>>, StoreError> {
    let mut out: HashMap<String, Vec<Record>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Record> = source_records::table
            .filter(source_records::asset_id.eq_any(chunk))
            .select(Record::as_select())
            .order((source_records::source, source_records::source_id))
            .load(conn)?;
        for r in rows {
            out.entry(r.asset_id.clone()).or_default().push(r);
        }
    }
    Ok(out)
}

/// Every asset's source references, by asset id (for snapshots).
pub fn all_refs(conn: &mut DbConnection) -> Result<HashMap<String, Vec<SourceRef>>, StoreError> {
    let rows: Vec<(String, String, String)> = source_records::table
        .select((
            source_records::asset_id,
            source_records::source,
            source_records::source_id,
        ))
        .order((source_records::source, source_records::source_id))
        .load(conn)?;
    let mut out: HashMap<String, Vec<SourceRef>> = HashMap::new();
    for (asset, source, source_id) in rows {
        out.entry(asset)
            .or_default()
            .push(SourceRef { source, source_id });
    }
    Ok(out)
}

/// One asset's source references.
pub fn refs_of(conn: &mut DbConnection, id: &str) -> Result<Vec<SourceRef>, StoreError> {
    let rows: Vec<(String, String)> = source_records::table
        .filter(source_records::asset_id.eq(id))
        .select((source_records::source, source_records::source_id))
        .order((source_records::source, source_records::source_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(source, source_id)| SourceRef { source, source_id })
        .collect())
}

/// Inserts records (many rows a statement, as imports need), marking their assets as
/// changed by `seq` (an asset's JSON lists its records).
pub fn insert_records(
    conn: &mut DbConnection,
    seq: ChangeSeq,
    records: &[Record],
) -> Result<(), StoreError> {
    insert_records_unmarked(conn, records)?;
    let ids: Vec<&str> = records.iter().map(|r| r.asset_id.as_str()).collect();
    mark_changed(conn, seq, &ids)
}

/// Inserts source records of assets whose rows already carry the write's change sequence
/// (an import's new assets): [`insert_records`] without [`mark_changed`], which would look
/// up every one of them to change nothing.
pub fn insert_records_unmarked(
    conn: &mut DbConnection,
    records: &[Record],
) -> Result<(), StoreError> {
    // 6 columns a row: 1,000 rows stay under both backends' bind-parameter limits.
    for chunk in records.chunks(1000) {
        let insert = diesel::insert_into(source_records::table).values(chunk);
        match conn {
            DbConnection::Pg(pg) => insert.execute(pg)?,
            DbConnection::Sqlite(lite) => insert.execute(lite)?,
        };
    }
    Ok(())
}

/// Sets the change sequence of the assets `ids` whose rows the write changed only through
/// other tables (their source records). Rows the write already set are left alone.
pub fn mark_changed(
    conn: &mut DbConnection,
    seq: ChangeSeq,
    ids: &[&str],
) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        diesel::update(
            assets::table
                .filter(assets::id.eq_any(chunk))
                .filter(assets::change_seq.ne(seq.0)),
        )
        .set(assets::change_seq.eq(seq.0))
        .execute(conn)?;
    }
    Ok(())
}

/// Marks a record as seen now with what its source gave.
pub fn touch_record(conn: &mut DbConnection, record: &Record) -> Result<(), StoreError> {
    diesel::update(source_records::table.find((&record.source, &record.source_id)))
        .set((
            source_records::last_seen_at.eq(record.last_seen_at),
            source_records::fields.eq(&record.fields),
        ))
        .execute(conn)?;
    Ok(())
}

/// Unlinks a record, marking its asset as changed by `seq`.
pub fn delete_record(
    conn: &mut DbConnection,
    seq: ChangeSeq,
    key: &(String, String),
) -> Result<(), StoreError> {
    let asset: Option<String> = source_records::table
        .find((&key.0, &key.1))
        .select(source_records::asset_id)
        .first(conn)
        .optional()?;
    diesel::delete(source_records::table.find((&key.0, &key.1))).execute(conn)?;
    match asset {
        Some(id) => mark_changed(conn, seq, &[id.as_str()]),
        None => Ok(()),
    }
}

/// The field origins of the given assets, by id.
pub fn origins_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, Origins>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = assets::table
            .filter(assets::id.eq_any(chunk))
            .select((assets::id, assets::field_origins))
            .load(conn)?;
        for (id, json) in rows {
            out.insert(id, serde_json::from_str(&json).unwrap_or_default());
        }
    }
    Ok(out)
}

pub fn set_origins(conn: &mut DbConnection, id: &str, origins: &Origins) -> Result<(), StoreError> {
    let json = serde_json::to_string(origins).unwrap_or_else(|_| "{}".into());
    diesel::update(assets::table.find(id))
        .set(assets::field_origins.eq(json))
        .execute(conn)?;
    Ok(())
}

/// A record as the admin API shows it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RecordView {
    pub source: String,
    pub source_id: String,
    pub first_seen_at: chrono::DateTime<chrono::Utc>,
    pub last_seen_at: chrono::DateTime<chrono::Utc>,
    /// What the source last gave.
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
}

/// Where an asset's values came from.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"asset_id": "1beaf664-065e-41cd-8e44-c134d70862a0",
    "fields": {"name": {"source": "libraries-2016", "at": "2026-11-30T10:00:00Z"},
               "opening_hours": {"by": "ann", "at": "2026-11-30T11:00:00Z"}},
    "records": [{"source": "libraries-2016", "source_id": "17", "first_seen_at": "2026-11-30T10:00:00Z",
        "last_seen_at": "2026-11-30T10:00:00Z", "fields": {"name": "Barking Library"}}]}))]
pub struct Provenance {
    pub asset_id: Uuid,
    /// Per field (`position` is lat and lon): the source whose import set it, or the
    /// person whose edit did, and when. A field with no entry was set before provenance
    /// was kept.
    #[schema(value_type = Object)]
    pub fields: Origins,
    /// The records of the lists that describe the asset.
    pub records: Vec<RecordView>,
}

/// Where an asset's values came from; `None` when there is no such asset.
pub fn provenance(conn: &mut DbConnection, id: &Uuid) -> Result<Option<Provenance>, StoreError> {
    let key = id.to_string();
    let Some(fields) = origins_of(conn, std::slice::from_ref(&key))?.remove(&key) else {
        return Ok(None);
    };
    let time = |us: i64| chrono::DateTime::from_timestamp_micros(us).unwrap_or_default();
    let records = records_of_assets(conn, std::slice::from_ref(&key))?
        .remove(&key)
        .unwrap_or_default()
        .into_iter()
        .map(|r| RecordView {
            first_seen_at: time(r.first_seen_at),
            last_seen_at: time(r.last_seen_at),
            fields: serde_json::from_str(&r.fields).unwrap_or_default(),
            source: r.source,
            source_id: r.source_id,
        })
        .collect();
    Ok(Some(Provenance {
        asset_id: *id,
        fields,
        records,
    }))
}
