//! What a feed's records are, in this directory's terms: the category of a venue (the
//! documented rule: our own taxonomy, any term, keywords, else `community_centre`), the
//! kind and audiences of an activity, step-free access and cost.

use serde_json::{Map, Value};

use super::json::{array, first_of, taxonomy_of, text};

/// The names of the taxonomy our own ORUK feed publishes the categories in (its terms'
/// `term` is our slug, `name` our label): the first is what `/oruk` publishes.
pub const CATEGORY_TAXONOMIES: [&str; 2] =
    ["Community asset categories", "community-assets categories"];

pub(super) fn is_category_taxonomy(name: &str) -> bool {
    CATEGORY_TAXONOMIES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name))
}

/// Keyword rules, first match wins: a category and words or phrases that name it.
/// `arts_centre` and `community_centre` come first so that "Arts Centre Cafe" is an arts
/// centre; `community_centre` is also what a venue that matches nothing becomes.
pub(super) const KEYWORDS: &[(&str, &[&str])] = &[
    (
        "arts_centre",
        &["arts centre", "arts center", "art centre", "arts hub"],
    ),
    ("museum", &["museum", "museums"]),
    ("gallery", &["gallery", "galleries", "art space"]),
    ("library", &["library", "libraries"]),
    (
        "theatre",
        &["theatre", "theatres", "theater", "playhouse", "opera house"],
    ),
    (
        "cinema",
        &["cinema", "cinemas", "picturehouse", "film club"],
    ),
    (
        "heritage",
        &[
            "heritage",
            "castle",
            "abbey",
            "priory",
            "historic",
            "monument",
            "stately home",
            "manor house",
        ],
    ),
    (
        "cafe",
        &["cafe", "café", "coffee shop", "tea room", "tearoom"],
    ),
    (
        "community_centre",
        &[
            "community centre",
            "community center",
            "village hall",
            "community hall",
            "church hall",
            "civic centre",
            "civic center",
        ],
    ),
];

/// The category a venue gets when nothing names one (with a warning).
pub const FALLBACK_CATEGORY: &str = "community_centre";

/// A slug's label as the categories table has it ("arts_centre" → "arts centre").
pub(super) fn label_of(slug: &str) -> String {
    slug.replace('_', " ")
}

/// The category by the documented rule: (a) a term of our own category taxonomy whose
/// code or name is a category, else any term whose code or name is one (slug or label);
/// (b) the keyword rules over the location's name, the terms' names and the services'
/// names, in that order; `None` when nothing says.
pub(super) fn category(
    name: &str,
    terms: &[&Map<String, Value>],
    service_names: &[String],
) -> Option<&'static str> {
    let exact = |t: &Map<String, Value>| {
        let said = [text(t, "code"), text(t, "name"), text(t, "term")];
        KEYWORDS.iter().map(|(slug, _)| *slug).find(|slug| {
            said.iter()
                .any(|s| s.eq_ignore_ascii_case(slug) || s.eq_ignore_ascii_case(&label_of(slug)))
        })
    };
    let ours = terms
        .iter()
        .filter(|t| is_category_taxonomy(&taxonomy_of(t)))
        .find_map(|t| exact(t));
    if let Some(c) = ours.or_else(|| terms.iter().find_map(|t| exact(t))) {
        return Some(c);
    }
    let term_names = terms
        .iter()
        .map(|t| first_of([text(t, "name"), text(t, "term")]));
    std::iter::once(name.to_string())
        .chain(term_names)
        .chain(service_names.iter().cloned())
        .find_map(|text| keyword_category(&text))
}

/// The first keyword rule that `text` matches (whole words, any case).
pub fn keyword_category(text: &str) -> Option<&'static str> {
    let words = format!(
        " {} ",
        text.to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() || c == 'é' {
                c
            } else {
                ' '
            })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    KEYWORDS
        .iter()
        .find(|(_, keys)| keys.iter().any(|k| words.contains(&format!(" {k} "))))
        .map(|(slug, _)| *slug)
}

/// Activity kinds and the words that name them, first match wins (the specific before
/// the general: a "film club" is film, not creative arts).
pub(super) const KIND_KEYWORDS: &[(&str, &[&str])] = &[
    (
        "music-singing",
        &[
            "singing",
            "sing",
            "choir",
            "choirs",
            "music",
            "song",
            "songs",
            "band",
            "orchestra",
            "ukulele",
        ],
    ),
    (
        "dance",
        &["dance", "dancing", "ballet", "movement to music"],
    ),
    (
        "film",
        &[
            "film",
            "films",
            "cinema",
            "screening",
            "screenings",
            "movie",
            "movies",
        ],
    ),
    (
        "crafts",
        &[
            "craft", "crafts", "knitting", "sewing", "pottery", "woodwork", "crochet", "quilting",
            "making",
        ],
    ),
    (
        "reading",
        &[
            "reading",
            "book club",
            "books",
            "poetry",
            "writing",
            "storytelling",
            "rhyme time",
            "stories",
        ],
    ),
    (
        "heritage",
        &[
            "heritage",
            "history",
            "object handling",
            "reminiscence",
            "archive",
            "archives",
            "museum",
        ],
    ),
    (
        "nature",
        &[
            "nature",
            "garden",
            "gardening",
            "walk",
            "walks",
            "walking",
            "allotment",
            "outdoors",
        ],
    ),
    (
        "creative-arts",
        &[
            "art",
            "arts",
            "painting",
            "drawing",
            "sculpture",
            "photography",
            "creative",
            "arts on prescription",
        ],
    ),
];

/// Audiences and the words that name them (all that match apply).
pub(super) const AUDIENCE_KEYWORDS: &[(&str, &[&str])] = &[
    (
        "dementia",
        &["dementia", "alzheimer", "alzheimers", "alzheimer s"],
    ),
    (
        "mental-health",
        &["mental health", "anxiety", "depression", "mental wellbeing"],
    ),
    (
        "long-term-conditions",
        &[
            "long term condition",
            "long term conditions",
            "copd",
            "parkinson",
            "parkinsons",
            "parkinson s",
            "stroke",
            "chronic pain",
            "lung condition",
            "lung conditions",
            "arthritis",
        ],
    ),
    (
        "loneliness",
        &["lonely", "loneliness", "isolated", "isolation"],
    ),
    (
        "young-people",
        &[
            "young people",
            "children",
            "teenagers",
            "teens",
            "youth",
            "kids",
        ],
    ),
    (
        "older-people",
        &[
            "older people",
            "older adults",
            "over 50s",
            "over 60s",
            "over 65s",
            "seniors",
            "elderly",
        ],
    ),
    ("carers", &["carer", "carers"]),
    (
        "learning-disabilities",
        &[
            "learning disability",
            "learning disabilities",
            "autism",
            "autistic",
        ],
    ),
];

/// A text's words, lower-case, separated by single spaces and padded with one each side
/// (so that `" word "` finds whole words and phrases).
pub(super) fn words(text: &str) -> String {
    let t: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    format!(" {} ", t.split_whitespace().collect::<Vec<_>>().join(" "))
}

pub(super) fn says(words: &str, phrase: &str) -> bool {
    words.contains(&format!(" {phrase} "))
}

/// Whether a term's code, term or name is `slug` or its label (`music-singing`, "music
/// singing").
pub(super) fn term_is(t: &Map<String, Value>, slug: &str) -> bool {
    let label = words(slug);
    [text(t, "code"), text(t, "term"), text(t, "name")]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(slug) || words(s) == label)
}

/// `yes`, `limited` or `no` when the location's accessibility text clearly says so of
/// wheelchairs (or step-free access), else `unknown`.
pub(super) fn wheelchair(loc: &Map<String, Value>) -> &'static str {
    let texts: Vec<String> = array(loc, "accessibility")
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|a| ["description", "details", "accessibility"].map(|k| text(a, k)))
        .collect();
    // Our own feed says it as the OpenStreetMap tag.
    let tagged = texts.iter().find_map(|t| match t.trim() {
        "wheelchair=yes" => Some("yes"),
        "wheelchair=limited" => Some("limited"),
        "wheelchair=no" => Some("no"),
        _ => None,
    });
    if let Some(w) = tagged {
        return w;
    }
    let mut said = None;
    for sentence in texts
        .iter()
        .flat_map(|t| t.split(['.', ';', '\n']))
        .map(|s| format!(" {} ", s.to_lowercase()))
        .filter(|s| s.contains("wheelchair") || s.contains("step-free") || s.contains("step free"))
    {
        let has = |words: &[&str]| words.iter().any(|w| sentence.contains(w));
        // "Limited step-free access: some parts are not reachable" is limited, not no.
        let this = if has(&[" limited", " partial", " some ", " ground floor only"]) {
            "limited"
        } else if has(&[
            " no ",
            " not ",
            "n't ",
            " without ",
            " unable ",
            " inaccessible",
        ]) {
            "no"
        } else if has(&[
            " access",
            " accessible",
            " possible",
            " available",
            " ramp",
            " lift",
        ]) {
            "yes"
        } else {
            continue;
        };
        // Conflicting statements: the most cautious wins.
        said = match (said, this) {
            (Some("no"), _) | (_, "no") => Some("no"),
            (Some("limited"), _) | (_, "limited") => Some("limited"),
            _ => Some("yes"),
        };
    }
    said.unwrap_or("unknown")
}

/// `free` when every cost option is free (amount 0 or says "free"), `paid` when one has
/// an amount, `donation` when one asks for one; else what `fees` says, else `unknown`.
pub(super) fn cost(service: &Map<String, Value>) -> &'static str {
    let options: Vec<&Map<String, Value>> = array(service, "cost_options")
        .iter()
        .filter_map(Value::as_object)
        .collect();
    let says = |o: &Map<String, Value>, word: &str| {
        ["option", "amount_description"]
            .iter()
            .any(|k| text(o, k).to_lowercase().contains(word))
    };
    let amount = |o: &Map<String, Value>| o.get("amount").and_then(Value::as_f64);
    if !options.is_empty() {
        let no_charge = |o: &Map<String, Value>| says(o, "no charge") || says(o, "free of charge");
        let charged = |o: &Map<String, Value>| {
            amount(o).is_some_and(|a| a > 0.0)
                || says(o, "paid")
                || (says(o, "charge") && !no_charge(o))
        };
        if options.iter().any(|o| charged(o)) {
            return "paid";
        }
        if options.iter().any(|o| says(o, "donation")) {
            return "donation";
        }
        if options
            .iter()
            .all(|o| amount(o) == Some(0.0) || says(o, "free") || no_charge(o))
        {
            return "free";
        }
    }
    let fees = first_of([text(service, "fees_description"), text(service, "fees")]).to_lowercase();
    if fees.contains("donation") {
        "donation"
    } else if fees.starts_with("free") || fees == "no charge" || fees == "none" {
        "free"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keywords_match_whole_words_in_rule_order() {
        assert_eq!(
            keyword_category("Jarrow Arts Centre Café"),
            Some("arts_centre")
        );
        assert_eq!(keyword_category("Central Library"), Some("library"));
        assert_eq!(keyword_category("Librarything"), None);
        assert_eq!(
            keyword_category("St Mary's Church Hall"),
            Some("community_centre")
        );
        assert_eq!(
            keyword_category("MyCity Civic Center"),
            Some("community_centre")
        );
        assert_eq!(keyword_category("Counselling"), None);
    }

    #[test]
    fn wheelchair_only_when_the_text_says_so() {
        let loc = |t: &str| {
            json!({"accessibility": [{"description": t}]})
                .as_object()
                .unwrap()
                .clone()
        };
        let said = |t: &str| wheelchair(&loc(t));
        assert_eq!(
            said("Induction loops. Wheelchair access is possible on all levels."),
            "yes"
        );
        assert_eq!(
            said("There is no wheelchair access to the first floor."),
            "no"
        );
        assert_eq!(said("Limited wheelchair access (ground floor)."), "limited");
        assert_eq!(said("Induction loops for hearing aids."), "unknown");
        assert_eq!(
            said("Limited step-free access: some parts are not reachable without steps"),
            "limited"
        );
        assert_eq!(said("wheelchair=no"), "no");
    }

    #[test]
    fn cost_options() {
        let s = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(cost(&s(json!({"cost_options": [{"amount": 0}]}))), "free");
        assert_eq!(
            cost(&s(
                json!({"cost_options": [{"option": "Free for all"}, {"amount": 35}]})
            )),
            "paid"
        );
        assert_eq!(
            cost(&s(json!({"cost_options": [{"option": "Free entry"}]}))),
            "free"
        );
        assert_eq!(
            cost(&s(json!({"fees_description": "Donations welcome"}))),
            "donation"
        );
        assert_eq!(cost(&s(json!({}))), "unknown");
        assert_eq!(
            cost(&s(json!({"cost_options": [{"option": "Paid entry",
                "amount_description": "Entry is charged"}]}))),
            "paid"
        );
        assert_eq!(
            cost(&s(
                json!({"cost_options": [{"option": "Free entry", "amount": 0,
                "amount_description": "Donations welcome"}]})
            )),
            "donation"
        );
    }
}
