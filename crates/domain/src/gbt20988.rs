//! GB/T 20988 (信息系统灾难恢复规范): six disaster recovery capability levels (灾难恢复能力等级)
//! over seven elements (要素). STANDARDS.md §1; data in `data/gbt20988.toml`.
//!
//! A system's level is the minimum over the elements of the highest level each element
//! satisfies. The RTO/RPO table is guidance only.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::lang::Text;

const SHIPPED: &str = include_str!("../data/gbt20988.toml");

/// The seven elements, in the standard's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Element {
    DataBackup,
    StandbyProcessing,
    StandbyNetwork,
    StandbyInfrastructure,
    TechnicalSupport,
    OperationsManagement,
    DrPlan,
}

impl Element {
    pub const ALL: [Element; 7] = [
        Element::DataBackup,
        Element::StandbyProcessing,
        Element::StandbyNetwork,
        Element::StandbyInfrastructure,
        Element::TechnicalSupport,
        Element::OperationsManagement,
        Element::DrPlan,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Element::DataBackup => "data_backup",
            Element::StandbyProcessing => "standby_processing",
            Element::StandbyNetwork => "standby_network",
            Element::StandbyInfrastructure => "standby_infrastructure",
            Element::TechnicalSupport => "technical_support",
            Element::OperationsManagement => "operations_management",
            Element::DrPlan => "dr_plan",
        }
    }
}

/// The highest level of the standard.
pub const MAX_LEVEL: u8 = 6;

/// The level each element satisfies (0 = not even level 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementLevels(pub [u8; 7]);

impl ElementLevels {
    /// The system's level: the minimum over the seven elements.
    pub fn system_level(&self) -> u8 {
        self.0.iter().copied().min().unwrap_or(0)
    }

    pub fn get(&self, e: Element) -> u8 {
        self.0[e as usize]
    }
}

/// Whether an edition's level table is available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditionStatus {
    Published,
    /// Known to exist, its table not yet available: nothing is computed against it.
    Pending,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub element: Element,
    pub id: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub level: u8,
    pub zh: String,
    pub en: String,
    /// Informative RTO example (guidance only).
    pub rto: Text,
    /// Informative RPO example (guidance only).
    pub rpo: Text,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edition {
    pub edition: String,
    pub status: EditionStatus,
    pub title_zh: String,
    pub title_en: String,
    #[serde(default)]
    pub level: Vec<Level>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElementName {
    pub id: Element,
    pub zh: String,
    pub en: String,
}

/// The standard as data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gbt20988 {
    pub format: u32,
    pub elements: Vec<ElementName>,
    pub edition: Vec<Edition>,
}

impl Gbt20988 {
    pub fn shipped() -> Gbt20988 {
        toml::from_str(SHIPPED).expect("the shipped GB/T 20988 table is valid (tested)")
    }

    pub fn edition(&self, name: &str) -> Option<&Edition> {
        self.edition.iter().find(|e| e.edition == name)
    }

    pub fn element_name(&self, e: Element) -> Option<&ElementName> {
        self.elements.iter().find(|n| n.id == e)
    }
}

impl Edition {
    /// The checks `element` must pass at `level`, as `L<level>.<element>.<id>` keys.
    pub fn checks(&self, level: u8, element: Element) -> Vec<&Check> {
        self.level
            .iter()
            .filter(|l| l.level == level)
            .flat_map(|l| l.checks.iter())
            .filter(|c| c.element == element)
            .collect()
    }

    /// The highest level an element satisfies, given the checks an assessor found satisfied
    /// (keys `L<level>.<element>.<id>`): every check of every level up to it must pass.
    /// `None` for a pending edition (no table to compute against).
    pub fn element_level(&self, element: Element, satisfied: &BTreeSet<String>) -> Option<u8> {
        if self.status == EditionStatus::Pending {
            return None;
        }
        let mut reached = 0;
        for level in 1..=MAX_LEVEL {
            let all = self
                .checks(level, element)
                .iter()
                .all(|c| satisfied.contains(&format!("L{level}.{}.{}", element.id(), c.id)));
            if !all {
                break;
            }
            reached = level;
        }
        Some(reached)
    }

    /// The system's level from the satisfied checks of all seven elements.
    pub fn system_level(&self, satisfied: &BTreeSet<String>) -> Option<u8> {
        let mut levels = [0u8; 7];
        for e in Element::ALL {
            levels[e as usize] = self.element_level(e, satisfied)?;
        }
        Some(ElementLevels(levels).system_level())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_checks_up_to(ed: &Edition, max: u8) -> BTreeSet<String> {
        ed.level
            .iter()
            .filter(|l| l.level <= max)
            .flat_map(|l| {
                l.checks
                    .iter()
                    .map(move |c| format!("L{}.{}.{}", l.level, c.element.id(), c.id))
            })
            .collect()
    }

    #[test]
    fn the_2007_edition_has_six_levels_over_seven_elements() {
        let std = Gbt20988::shipped();
        assert_eq!(std.elements.len(), 7);
        let ed = std.edition("2007").unwrap();
        assert_eq!(ed.status, EditionStatus::Published);
        let levels: Vec<u8> = ed.level.iter().map(|l| l.level).collect();
        assert_eq!(levels, vec![1, 2, 3, 4, 5, 6]);
        // The DR plan is required at every level; technical support only from level 3.
        for l in 1..=6 {
            assert!(!ed.checks(l, Element::DrPlan).is_empty());
        }
        assert!(ed.checks(2, Element::TechnicalSupport).is_empty());
        assert_eq!(ed.checks(3, Element::TechnicalSupport).len(), 3);
        assert_eq!(ed.level[4].rpo.zh, "0至30分钟");
    }

    #[test]
    fn the_2025_edition_is_an_empty_pending_slot() {
        let std = Gbt20988::shipped();
        let ed = std.edition("2025").unwrap();
        assert_eq!(ed.status, EditionStatus::Pending);
        assert!(ed.level.is_empty());
        assert_eq!(ed.system_level(&BTreeSet::new()), None);
    }

    #[test]
    fn the_system_level_is_the_minimum_over_elements() {
        assert_eq!(ElementLevels([4, 4, 4, 3, 4, 5, 6]).system_level(), 3);
        assert_eq!(ElementLevels([6; 7]).system_level(), 6);
        assert_eq!(ElementLevels([3, 3, 3, 3, 3, 3, 0]).system_level(), 0);
    }

    #[test]
    fn an_element_reaches_the_highest_level_whose_checks_all_pass() {
        let std = Gbt20988::shipped();
        let ed = std.edition("2007").unwrap();
        let mut sat = all_checks_up_to(ed, 4);
        assert_eq!(ed.system_level(&sat), Some(4));
        // Missing one level-4 check of the standby network caps that element, and so the
        // system, at level 3.
        sat.remove("L4.standby_network.b");
        assert_eq!(ed.element_level(Element::StandbyNetwork, &sat), Some(3));
        assert_eq!(ed.system_level(&sat), Some(3));
        // A level-5 check alone does not lift an element past a failed lower level.
        sat.insert("L5.standby_network.c".into());
        assert_eq!(ed.element_level(Element::StandbyNetwork, &sat), Some(3));
        assert_eq!(ed.system_level(&BTreeSet::new()), Some(0));
    }
}
