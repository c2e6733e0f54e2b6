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
        field_origins -> Text,
        location_precision -> Text,
        change_seq -> BigInt,
    }
}

diesel::table! {
    data_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    change_log (seq) {
        seq -> BigInt,
        tag -> BigInt,
    }
}

diesel::joinable!(assets -> categories (category));
diesel::allow_tables_to_appear_in_same_query!(assets, categories);

diesel::table! {
    areas (code) {
        code -> Text,
        name -> Text,
        la_code -> Text,
        la_name -> Text,
        nation -> Text,
        lat -> Double,
        lon -> Double,
        population -> Nullable<BigInt>,
        imd_score -> Nullable<Double>,
        imd_rank -> Integer,
        imd_decile -> Integer,
        income_rank -> Nullable<Integer>,
        income_decile -> Nullable<Integer>,
        employment_rank -> Nullable<Integer>,
        employment_decile -> Nullable<Integer>,
        education_rank -> Nullable<Integer>,
        education_decile -> Nullable<Integer>,
        health_rank -> Nullable<Integer>,
        health_decile -> Nullable<Integer>,
        crime_rank -> Nullable<Integer>,
        crime_decile -> Nullable<Integer>,
        housing_rank -> Nullable<Integer>,
        housing_decile -> Nullable<Integer>,
        environment_rank -> Nullable<Integer>,
        environment_decile -> Nullable<Integer>,
        boundary -> Nullable<Text>,
        indices -> Nullable<Text>,
    }
}

diesel::table! {
    area_set (id) {
        id -> Integer,
        version -> BigInt,
        index_name -> Nullable<Text>,
        geography -> Nullable<Text>,
        imported_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    users (username) {
        username -> Text,
        password_hash -> Text,
        role -> Text,
        active -> Bool,
        token_version -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> BigInt,
        username -> Text,
        action -> Text,
        asset_id -> Nullable<Text>,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
        account -> Nullable<Text>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    suggestions (id) {
        id -> Text,
        kind -> Text,
        asset_id -> Nullable<Text>,
        fields -> Text,
        contact_email -> Nullable<Text>,
        status -> Text,
        created_at -> BigInt,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<BigInt>,
        reason -> Nullable<Text>,
        activity_id -> Nullable<Text>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        prefix -> Text,
        hash -> Text,
        rate_limit_per_minute -> Nullable<Integer>,
        created_by -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        request_count -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sources (name) {
        name -> Text,
        title -> Nullable<Text>,
        licence -> Nullable<Text>,
        attribution -> Nullable<Text>,
        url -> Nullable<Text>,
        priority -> Integer,
        field_priorities -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    source_records (source, source_id) {
        source -> Text,
        source_id -> Text,
        asset_id -> Text,
        first_seen_at -> BigInt,
        last_seen_at -> BigInt,
        fields -> Text,
    }
}

diesel::table! {
    match_reviews (id) {
        id -> Text,
        kind -> Text,
        source -> Text,
        source_id -> Text,
        row_fields -> Text,
        location -> Nullable<Text>,
        candidates -> Text,
        asset_id -> Nullable<Text>,
        status -> Text,
        created_at -> BigInt,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    postcodes (postcode) {
        postcode -> Text,
        lat -> Double,
        lon -> Double,
    }
}

diesel::table! {
    activity_kinds (slug) {
        slug -> Text,
        label -> Text,
        description -> Text,
    }
}

diesel::table! {
    audiences (slug) {
        slug -> Text,
        label -> Text,
        description -> Text,
    }
}

diesel::table! {
    activities (id) {
        id -> Text,
        asset_id -> Text,
        kind -> Text,
        status -> Text,
        source -> Nullable<Text>,
        source_id -> Nullable<Text>,
        data -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
        change_seq -> BigInt,
    }
}
