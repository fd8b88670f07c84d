//! Closed vocabularies shared by content, the domain and the database: each value has one
//! spelling, used in YAML, SQL, JSON and on the command line alike.

/// A value that is not in a closed vocabulary; says what was given and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{given}' (allowed: {})", allowed.join(", "))]
pub struct UnknownValue {
    pub what: &'static str,
    pub given: String,
    pub allowed: Vec<&'static str>,
}

/// Declares an enum whose variants are spelled as fixed lowercase strings everywhere.
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident : $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn allowed() -> Vec<&'static str> {
                vec![$($text),+]
            }

            pub fn parse(s: &str) -> Result<Self, $crate::UnknownValue> {
                let t = s.trim().to_ascii_lowercase().replace('-', "_");
                match t.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::UnknownValue { what: $what, given: s.to_string(), allowed: Self::allowed() }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> { Self::parse(s) }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                // Content files must use the exact spelling; aliases are for people typing.
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| ::serde::de::Error::custom($crate::UnknownValue {
                        what: $what, given: s, allowed: Self::allowed(),
                    }))
            }
        }
    };
}

string_enum! {
    /// How often a control operates.
    pub enum Frequency: "frequency" {
        Continuous = "continuous",
        Daily = "daily",
        Weekly = "weekly",
        Monthly = "monthly",
        Quarterly = "quarterly",
        Annual = "annual",
        PerEvent = "per_event",
    }
}

string_enum! {
    /// A dated record, kept in Evident's registers, that can show one occurrence of a periodic
    /// control took place: an event of that kind, a risk review, a policy version approved, a
    /// training completion. Content names these on a control (`attested_by`) so the observation
    /// window can tell met periods from missed ones without knowing control codes.
    pub enum Attester: "attesting record" {
        Incident = "incident",
        TabletopExercise = "tabletop_exercise",
        BackupRestoreTest = "backup_restore_test",
        DrTest = "dr_test",
        AccessReview = "access_review",
        PrivilegedAccessReview = "privileged_access_review",
        RiskAssessment = "risk_assessment",
        ManagementReview = "management_review",
        PenetrationTest = "penetration_test",
        RiskReview = "risk_review",
        PolicyReview = "policy_review",
        Training = "training",
    }
}

string_enum! {
    /// Every occurrence of an event-driven control over a period, as the auditor asks for it
    /// before drawing a sample. Content names these on a control (`populations`) so fieldwork
    /// offers the right list for each control without knowing control codes.
    pub enum PopulationKind: "population" {
        NewHires = "new_hires",
        Leavers = "leavers",
        RoleChanges = "role_changes",
        Changes = "changes",
        Incidents = "incidents",
        LateFindings = "late_findings",
        AccessReviews = "access_reviews",
        VendorReviews = "vendor_reviews",
        PolicyAcceptances = "policy_acceptances",
        RestoreTests = "restore_tests",
    }
}

string_enum! {
    /// How often a piece of evidence must be renewed to stay current.
    pub enum Refresh: "refresh cadence" {
        Daily = "daily",
        Weekly = "weekly",
        Monthly = "monthly",
        Quarterly = "quarterly",
        Semiannual = "semiannual",
        Annual = "annual",
        PerEvent = "per_event",
    }
}

impl Refresh {
    /// Days an item stays current, or `None` for evidence produced per occurrence
    /// (it attests to that occurrence and does not go stale).
    pub fn validity_days(self) -> Option<u32> {
        match self {
            Refresh::Daily => Some(1),
            Refresh::Weekly => Some(7),
            Refresh::Monthly => Some(31),
            Refresh::Quarterly => Some(92),
            Refresh::Semiannual => Some(183),
            Refresh::Annual => Some(366),
            Refresh::PerEvent => None,
        }
    }
}

string_enum! {
    /// Whether a control stops a problem, finds it, or puts it right.
    pub enum ControlType: "control type" {
        Preventive = "preventive",
        Detective = "detective",
        Corrective = "corrective",
    }
}

string_enum! {
    pub enum Execution: "execution" {
        Automated = "automated",
        Manual = "manual",
    }
}

string_enum! {
    /// The function that usually owns a control in a SaaS company; a person is assigned later.
    pub enum OwnerRole: "owner role" {
        Executive = "executive",
        Compliance = "compliance",
        Security = "security",
        Engineering = "engineering",
        Infrastructure = "infrastructure",
        It = "it",
        Hr = "hr",
        Legal = "legal",
        Privacy = "privacy",
        Support = "support",
        Finance = "finance",
    }
}
