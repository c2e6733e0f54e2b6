//! Diesel table definitions, identical for SQLite and PostgreSQL.

diesel::table! {
    categories (slug) {
        slug -> Text,
        label -> Text,
        description -> Text,
    }
}

diesel::table! {
    assets (id) {
        id -> Text,
        name -> Text,
        category -> Text,
        lat -> Double,
        lon -> Double,
        address -> Nullable<Text>,
        town -> Nullable<Text>,
        postcode -> Nullable<Text>,
        website -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        description -> Nullable<Text>,
        opening_hours -> Nullable<Text>,
        wheelchair -> Text,
        cost -> Text,
        tags -> Text,
        source -> Nullable<Text>,
        source_id -> Nullable<Text>,
        status -> Text,
        last_verified_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    data_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::joinable!(assets -> categories (category));
diesel::allow_tables_to_appear_in_same_query!(assets, categories);
