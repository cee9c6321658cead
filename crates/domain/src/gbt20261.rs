//! GB/T 20261-2020 (系统安全工程能力成熟度模型): capability levels 1–5 (guide §二), common features
//! and generic practices as data (`data/gbt20261.toml`), and the capability level of a process
//! area from an assessor's ratings of its generic practices. STANDARDS.md §2.

use std::collections::BTreeMap;

use serde::Deserialize;

const SHIPPED: &str = include_str!("../data/gbt20261.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Practice {
    pub id: String,
    pub zh: String,
    pub en: String,
}

/// A common feature (公共特征) with its generic practices (通用实践).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonFeature {
    pub id: String,
    pub zh: String,
    pub en: String,
    pub practices: Vec<Practice>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityLevel {
    pub level: u8,
    pub zh: String,
    pub en: String,
    pub features: Vec<CommonFeature>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessArea {
    pub id: String,
    pub zh: String,
    pub en: String,
}

/// The model as data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gbt20261 {
    pub format: u32,
    pub level: Vec<CapabilityLevel>,
    pub process_areas: Vec<ProcessArea>,
}

/// An assessor's rating of one generic practice for one process area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    NotSatisfied,
    NotRated,
}

impl Gbt20261 {
    pub fn shipped() -> Gbt20261 {
        toml::from_str(SHIPPED).expect("the shipped GB/T 20261 model is valid (tested)")
    }

    pub fn level(&self, n: u8) -> Option<&CapabilityLevel> {
        self.level.iter().find(|l| l.level == n)
    }

    /// The capability level of a process area: the highest level n such that every generic
    /// practice of levels 1..=n is rated satisfied (0 when level 1 is not). A practice that is
    /// not rated, or missing from `ratings`, counts as not satisfied.
    pub fn capability_level(&self, ratings: &BTreeMap<String, Rating>) -> u8 {
        let mut reached = 0;
        let mut levels: Vec<&CapabilityLevel> = self.level.iter().collect();
        levels.sort_by_key(|l| l.level);
        for l in levels {
            let all = l
                .features
                .iter()
                .flat_map(|f| f.practices.iter())
                .all(|p| ratings.get(&p.id) == Some(&Rating::Satisfied));
            if !all {
                break;
            }
            reached = l.level;
        }
        reached
    }

    /// The generic practices that keep a process area from `target` (not satisfied, or not
    /// rated), in order.
    pub fn gaps(&self, target: u8, ratings: &BTreeMap<String, Rating>) -> Vec<&Practice> {
        self.level
            .iter()
            .filter(|l| l.level <= target)
            .flat_map(|l| l.features.iter().flat_map(|f| f.practices.iter()))
            .filter(|p| ratings.get(&p.id) != Some(&Rating::Satisfied))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn satisfied_up_to(m: &Gbt20261, n: u8) -> BTreeMap<String, Rating> {
        m.level
            .iter()
            .filter(|l| l.level <= n)
            .flat_map(|l| l.features.iter().flat_map(|f| f.practices.iter()))
            .map(|p| (p.id.clone(), Rating::Satisfied))
            .collect()
    }

    #[test]
    fn five_levels_with_the_guides_names_and_29_generic_practices() {
        let m = Gbt20261::shipped();
        let names: Vec<&str> = m.level.iter().map(|l| l.zh.as_str()).collect();
        assert_eq!(
            names,
            [
                "基本执行级",
                "计划跟踪级",
                "充分定义级",
                "量化控制级",
                "持续改进级"
            ]
        );
        let gps: usize = m
            .level
            .iter()
            .flat_map(|l| l.features.iter())
            .map(|f| f.practices.len())
            .sum();
        assert_eq!(gps, 29);
        assert_eq!(m.process_areas.len(), 22);
        // Level 2 (计划跟踪级) = planning, disciplined, verifying, tracking: guide 3.4.
        let cf: Vec<&str> = m
            .level(2)
            .unwrap()
            .features
            .iter()
            .map(|f| f.id.as_str())
            .collect();
        assert_eq!(cf, ["2.1", "2.2", "2.3", "2.4"]);
    }

    #[test]
    fn a_process_area_is_at_the_highest_level_fully_satisfied() {
        let m = Gbt20261::shipped();
        assert_eq!(m.capability_level(&BTreeMap::new()), 0);
        assert_eq!(m.capability_level(&satisfied_up_to(&m, 1)), 1);
        assert_eq!(m.capability_level(&satisfied_up_to(&m, 2)), 2);
        assert_eq!(m.capability_level(&satisfied_up_to(&m, 5)), 5);

        let mut r = satisfied_up_to(&m, 3);
        r.insert("GP 2.4.2".into(), Rating::NotSatisfied);
        assert_eq!(m.capability_level(&r), 1, "a level-2 gap caps the PA at 1");
        let gaps: Vec<&str> = m.gaps(2, &r).iter().map(|p| p.id.as_str()).collect();
        assert_eq!(gaps, ["GP 2.4.2"]);

        let mut r = satisfied_up_to(&m, 2);
        r.insert("GP 2.1.3".into(), Rating::NotRated);
        assert_eq!(
            m.capability_level(&r),
            1,
            "an unrated practice is not satisfied"
        );
    }
}
