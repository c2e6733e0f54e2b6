//! Names as the matcher compares them: folded to lower-case ASCII words, with the ways real
//! lists spell one name differently made equal (apostrophes, `&`/"and", "St"/"Saint",
//! a leading "The", diacritics, abbreviations, a possessive or plural "s"), and split into
//! the *distinctive* words (what tells one venue from another: "Wilton", "Film",
//! "Transport") and the *generic* ones (what kind of place it is: "Museum", "Library",
//! "Cafe"), which two lists often add or drop.

use std::collections::BTreeSet;

/// Words that carry no identity in a venue name: stop words, kinds of venue, of room and
/// of organisation. Compared after expansion and stemming (see [`Name::new`]).
const GENERIC: &[&str] = &[
    "the",
    "and",
    "of",
    "a",
    "an",
    "at",
    "in",
    "on",
    "for",
    "museum",
    "gallery",
    "gallerie",
    "art",
    "library",
    "librarie",
    "theatre",
    "cinema",
    "centre",
    "community",
    "cafe",
    "coffee",
    "shop",
    "tea",
    "room",
    "tearoom",
    "coffeeshop",
    "bar",
    "kitchen",
    "canteen",
    "restaurant",
    "heritage",
    "trust",
    "society",
    "ltd",
    "limited",
    "co",
    "company",
    "branch",
    "information",
    "hub",
    "collection",
    "venue",
    "cic",
    "charity",
    "association",
];

/// Generic words that say what kind of venue a place is, by kind: two names with the
/// same distinctive words but only different kinds ("Hunterian Museum" / "Hunterian Art
/// Gallery", "Harley Cafe" / "Harley Gallery") are often two places of one site.
const KINDS: &[(&str, &str)] = &[
    ("museum", "museum"),
    ("gallery", "gallery"),
    ("gallerie", "gallery"),
    ("library", "library"),
    ("librarie", "library"),
    ("theatre", "theatre"),
    ("cinema", "cinema"),
    ("cafe", "cafe"),
    ("coffee", "cafe"),
    ("tea", "cafe"),
    ("tearoom", "cafe"),
    ("coffeeshop", "cafe"),
    ("restaurant", "cafe"),
    ("kitchen", "cafe"),
    ("canteen", "cafe"),
];

/// Stop words dropped everywhere (so word order and "of"/"and" never matter).
const STOP: [&str; 9] = ["the", "and", "of", "a", "an", "at", "in", "on", "for"];

/// Abbreviations and spelling variants, mapped to one spelling.
fn expand(word: &str) -> &str {
    match word {
        "lib" | "libr" => "library",
        "mus" => "museum",
        "gall" | "gal" => "gallery",
        "ctr" | "ctre" | "cntr" | "center" => "centre",
        "theater" => "theatre",
        "comm" | "cmty" => "community",
        "info" => "information",
        "nat" | "natl" => "national",
        "intl" => "international",
        "univ" | "uni" => "university",
        "mt" => "mount",
        "rd" => "road",
        "sq" => "square",
        "ave" => "avenue",
        "hse" => "house",
        "caf" => "cafe",
        w => w,
    }
}

/// A word of five letters or more spelt nearly like a generic word ("Libary", "Galery",
/// "Socety") is that word: a misspelt generic word must not pass for a distinctive one.
fn generic_spelling(word: &str) -> Option<&'static str> {
    if word.len() < 5 || GENERIC.contains(&word) {
        return None;
    }
    GENERIC
        .iter()
        .filter(|g| g.len() >= 5 && g.as_bytes()[0] == word.as_bytes()[0])
        .filter(|g| g.len().abs_diff(word.len()) <= 2)
        .find(|g| strsim::jaro_winkler(word, g) >= 0.93)
        .copied()
}

/// Latin letters with diacritics to their base letters (the ones UK venue names use,
/// Welsh included); other characters unchanged.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
        'ñ' | 'ń' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
        'ý' | 'ÿ' | 'ŷ' => 'y',
        'ŵ' => 'w',
        'š' | 'ś' => 's',
        'ž' | 'ź' | 'ż' => 'z',
        'ł' => 'l',
        c => c,
    }
}

/// A plural or possessive "s" dropped ("Wiltons" and "Wilton's" → "wilton", "Arts" →
/// "art"), so that the two spellings compare equal; "ss" endings and short words kept.
fn stem(word: &str) -> String {
    if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        word[..word.len() - 1].to_string()
    } else {
        word.to_string()
    }
}

/// A name ready for comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// Every word but the stop words, normalised, in the order written.
    pub words: Vec<String>,
    /// The distinct words sorted: equal for names that differ only in word order or in a
    /// repeated word.
    pub key: String,
    /// Words that are not generic (numbers included), sorted and distinct.
    pub distinctive: BTreeSet<String>,
    /// Words with a digit ("2", "13th"): names whose numbers differ are different places.
    pub numbers: BTreeSet<String>,
    /// The kinds of venue the name says ([`KINDS`]).
    pub kinds: BTreeSet<&'static str>,
}

impl Name {
    pub fn new(raw: &str) -> Name {
        let mut s = String::with_capacity(raw.len() + 8);
        for c in raw.chars().flat_map(char::to_lowercase) {
            match c {
                '\'' | '’' | '‘' | '`' | '´' => {}
                '&' | '+' => s.push_str(" and "),
                'æ' => s.push_str("ae"),
                'œ' => s.push_str("oe"),
                'ß' => s.push_str("ss"),
                c if c.is_alphanumeric() => s.push(fold(c)),
                _ => s.push(' '),
            }
        }
        let raw_words: Vec<&str> = s.split_whitespace().collect();
        let words: Vec<String> = raw_words
            .iter()
            .enumerate()
            .map(|(i, w)| match *w {
                // "St" is "Saint" before a name, else "Street" ("High St Library").
                "st" | "snt"
                    if raw_words
                        .get(i + 1)
                        .is_some_and(|next| !GENERIC.contains(&expand(next))) =>
                {
                    "saint".to_string()
                }
                "st" => "street".to_string(),
                w => {
                    let w = stem(expand(w));
                    generic_spelling(&w).map_or(w, str::to_string)
                }
            })
            .filter(|w| !STOP.contains(&w.as_str()))
            .collect();
        let mut sorted = words.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let numbers = words
            .iter()
            .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
            .cloned()
            .collect();
        let distinctive = words
            .iter()
            .filter(|w| !GENERIC.contains(&w.as_str()))
            .cloned()
            .collect();
        let kinds = words
            .iter()
            .filter_map(|w| KINDS.iter().find(|k| k.0 == w.as_str()).map(|k| k.1))
            .collect();
        Name {
            kinds,
            key: sorted.join(" "),
            words,
            distinctive,
            numbers,
        }
    }
}

/// How two names compare: the name comparison levels, from the strongest evidence of
/// one place to the strongest of two.
#[derive(Clone, Debug, PartialEq)]
pub enum NameLevel {
    /// The same words after normalisation (in any order).
    Equal,
    /// The same distinctive words; only generic ones differ ("Kidsgrove" / "Kidsgrove
    /// Library").
    SameDistinctive,
    /// The same number of distinctive words, each spelt nearly alike (Jaro-Winkler ≥
    /// [`FUZZY_AT`]): "Ordsall" / "Ordshall", "Navy" / "Naval". The lowest similarity.
    Similar(f64),
    /// One name's distinctive words are all in the other, which has more ("Dover Museum" /
    /// "Dover Museum and Bronze Age Boat Gallery"). The extra words.
    Contained(Vec<String>),
    /// The same distinctive words, but each name says another kind of venue ("Hunterian
    /// Museum" / "Hunterian Art Gallery"): often two places of one site. The kinds.
    KindsDiffer(Vec<String>, Vec<String>),
    /// Sharing most distinctive words (Jaccard ≥ 1/2) but each has one the other lacks.
    MostlyShared(Vec<String>, Vec<String>),
    /// Sharing some distinctive words, but each has clearly different ones ("London Film
    /// Museum" / "London Transport Museum"): strong counter-evidence.
    DistinctDiffer(Vec<String>, Vec<String>),
    /// No distinctive word in common.
    Unrelated,
    /// A name with no distinctive word ("The Museum", "Library"): little either way.
    Generic,
    /// The numbers differ ("Studio 1" / "Studio 2"): never the same place.
    NumbersDiffer,
}

/// The Jaro-Winkler similarity from which two distinctive words count as one misspelt.
pub const FUZZY_AT: f64 = 0.9;

pub fn compare_names(a: &Name, b: &Name) -> NameLevel {
    if a.numbers != b.numbers {
        return NameLevel::NumbersDiffer;
    }
    if a.key == b.key {
        return NameLevel::Equal;
    }
    let (da, db) = (&a.distinctive, &b.distinctive);
    if da.is_empty() || db.is_empty() {
        return NameLevel::Generic;
    }
    if da == db {
        if !a.kinds.is_empty() && !b.kinds.is_empty() && a.kinds.is_disjoint(&b.kinds) {
            let list = |k: &BTreeSet<&str>| k.iter().map(|s| s.to_string()).collect();
            return NameLevel::KindsDiffer(list(&a.kinds), list(&b.kinds));
        }
        return NameLevel::SameDistinctive;
    }
    let only_a: Vec<String> = da.difference(db).cloned().collect();
    let only_b: Vec<String> = db.difference(da).cloned().collect();
    if only_a.len() == only_b.len() {
        if let Some(sim) = fuzzy_pairing(&only_a, &only_b) {
            return NameLevel::Similar(sim);
        }
    }
    if only_a.is_empty() {
        return NameLevel::Contained(only_b);
    }
    if only_b.is_empty() {
        return NameLevel::Contained(only_a);
    }
    let shared = da.len() - only_a.len();
    if shared == 0 {
        return NameLevel::Unrelated;
    }
    let union = da.len() + only_b.len();
    if 2 * shared >= union {
        NameLevel::MostlyShared(only_a, only_b)
    } else {
        NameLevel::DistinctDiffer(only_a, only_b)
    }
}

/// Pairs the words of `a` with those of `b` (equally many), greedily by similarity; the
/// lowest similarity when every pair reaches [`FUZZY_AT`].
fn fuzzy_pairing(a: &[String], b: &[String]) -> Option<f64> {
    let mut used = vec![false; b.len()];
    let mut lowest: f64 = 1.0;
    for x in a {
        let (j, sim) = b
            .iter()
            .enumerate()
            .filter(|(j, _)| !used[*j])
            .map(|(j, y)| (j, strsim::jaro_winkler(x, y)))
            .max_by(|p, q| p.1.total_cmp(&q.1))?;
        if sim < FUZZY_AT {
            return None;
        }
        used[j] = true;
        lowest = lowest.min(sim);
    }
    Some(lowest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(a: &str, b: &str) -> NameLevel {
        compare_names(&Name::new(a), &Name::new(b))
    }

    #[test]
    fn spellings_of_one_name_are_equal() {
        for (a, b) in [
            ("Wilton's Music Hall", "Wiltons Music Hall"),
            ("Bishop's Castle", "Bishops Castle"),
            ("Bishop’s Castle", "BISHOPS CASTLE"),
            ("Arts & Crafts Museum", "Arts and Crafts Museum"),
            ("St George's Hall", "Saint Georges Hall"),
            ("St. George's Hall", "St Georges Hall"),
            ("The Lowry", "Lowry"),
            ("Café Nero", "Cafe Nero"),
            ("Amgueddfa Ŵyl", "Amgueddfa Wyl"),
            ("Maritime Museum, Lancaster", "Lancaster Maritime Museum"),
            ("Museum of the Broads", "Broads Museum"),
            ("Bath Central Lib", "Bath Central Library"),
        ] {
            assert_eq!(level(a, b), NameLevel::Equal, "{a} / {b}");
        }
    }

    #[test]
    fn levels() {
        assert_eq!(
            level("Kidsgrove", "Kidsgrove Library"),
            NameLevel::SameDistinctive
        );
        assert!(matches!(
            level("Ordshall Hall Museum", "Ordsall Hall Museum"),
            NameLevel::Similar(s) if s >= FUZZY_AT
        ));
        assert_eq!(
            level("Dover Museum", "Dover Museum and Bronze Age Boat Gallery"),
            NameLevel::Contained(vec!["age".into(), "boat".into(), "bronze".into()])
        );
        assert_eq!(
            level("London Film Museum", "London Transport Museum"),
            NameLevel::DistinctDiffer(vec!["film".into()], vec!["transport".into()])
        );
        assert_eq!(
            level("Glenn Miller Museum", "Under Fire Museum"),
            NameLevel::Unrelated
        );
        assert_eq!(
            level("The Museum", "Ashdon Village Museum"),
            NameLevel::Generic
        );
        assert_eq!(level("Studio 1", "Studio 2"), NameLevel::NumbersDiffer);
        assert_eq!(level("Studio 1", "Studio"), NameLevel::NumbersDiffer);
        assert_eq!(level("Studio 2", "The Studio 2"), NameLevel::Equal);
        // "St" at the end is a street, not a saint.
        assert_eq!(Name::new("High St Library").words[1], "street");
    }
}
