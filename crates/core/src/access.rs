//! Who may do what: the one table the server consults for every page and API route.
//!
//! A route belongs to an [`Area`] and is a read (GET) or a write (anything else). The answer is
//! how much of the area the role reaches: nothing (the server answers 404, never revealing that
//! the thing exists), only what the caller owns or is, only what is in the audit's scope, or all.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ComplianceManager,
    ControlOwner,
    Employee,
    Auditor,
    Viewer,
}

pub const ROLES: [Role; 6] = [
    Role::Admin,
    Role::ComplianceManager,
    Role::ControlOwner,
    Role::Employee,
    Role::Auditor,
    Role::Viewer,
];

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::ComplianceManager,
        Role::ControlOwner,
        Role::Employee,
        Role::Auditor,
        Role::Viewer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ComplianceManager => "compliance_manager",
            Role::ControlOwner => "control_owner",
            Role::Employee => "employee",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::ComplianceManager => "Compliance manager",
            Role::ControlOwner => "Control owner",
            Role::Employee => "Employee",
            Role::Auditor => "Auditor",
            Role::Viewer => "Viewer",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        let wanted = s.trim().to_lowercase().replace(['-', ' '], "_");
        ROLES.into_iter().find(|r| r.name() == wanted).ok_or_else(|| {
            let names: Vec<&str> = ROLES.iter().map(|r| r.name()).collect();
            format!("unknown role '{s}'; expected one of {}", names.join(", "))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Dashboard,
    Scope,
    Criteria,
    Controls,
    Evidence,
    Policies,
    People,
    Risks,
    Vendors,
    Assets,
    Events,
    Tasks,
    Checks,
    AuditLog,
    /// The Type II observation window: its exceptions and management's responses.
    Window,
    /// Audit engagements: request lists, populations, samples and results. Who may take which
    /// step inside it is `fieldwork::may`; an auditor reaches only their engagements.
    Fieldwork,
    /// Users, roles and API tokens.
    Settings,
    /// The caller's own policies to accept, tasks and training.
    Me,
    /// Access review campaigns. Managing them is for those who reach all of it; a reviewer
    /// (down to an employee, for their own reports' accounts) decides only their items.
    AccessReviews,
    /// Scheduled jobs and the connectors' health: read by those who run the program, run now
    /// or rescheduled by administrators only.
    Jobs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Write,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    None,
    /// Only records the caller owns (controls, their evidence) or is (their own person record).
    Own,
    /// Only what falls inside the audit's scope (the auditor).
    InScope,
    All,
}

/// Where a role lands (after sign-in, from the logo): an auditor on their engagements, others
/// on the dashboard when they may read it, otherwise on their own page.
pub fn home(role: Role) -> &'static str {
    if role == Role::Auditor {
        "/audit"
    } else if reach(role, Area::Dashboard, Action::Read) == Reach::None {
        "/me"
    } else {
        "/"
    }
}

/// The access table. Kept as one match so a reader sees every rule at once.
pub fn reach(role: Role, area: Area, action: Action) -> Reach {
    use Action::*;
    use Area::*;
    use Reach::{All, InScope, None, Own};
    match (role, area, action) {
        (_, Me, _) => All,
        (Role::Admin, _, _) => All,
        (Role::ComplianceManager, Settings, _) => None,
        (Role::ComplianceManager, AuditLog | Jobs, Write) => None,
        (Role::ComplianceManager, _, _) => All,
        // Control owners see the program and change only what they own.
        (Role::ControlOwner, Settings | People | AuditLog, _) => None,
        (Role::ControlOwner, Controls | Evidence | Fieldwork | AccessReviews, Write) => Own,
        (Role::ControlOwner, _, Write) => None,
        (Role::ControlOwner, _, Read) => All,
        // Employees reach only their own items, through Me.
        (Role::Employee, AccessReviews, _) => Own,
        (Role::Employee, _, _) => None,
        // The auditor reads the audit's scope and nothing of the instance's administration;
        // in their engagements they comment, accept, return, draw samples and record results.
        (Role::Auditor, Fieldwork, _) => InScope,
        (Role::Auditor, _, Write) => None,
        (Role::Auditor, Settings | Tasks | Jobs, Read) => None,
        (Role::Auditor, Controls | Evidence | Criteria, Read) => InScope,
        (Role::Auditor, _, Read) => All,
        (Role::Viewer, _, Write) => None,
        (Role::Viewer, Settings | People | AuditLog, Read) => None,
        (Role::Viewer, _, Read) => All,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in ROLES {
            assert_eq!(Role::parse(r.name()), Ok(r));
        }
        assert_eq!(Role::parse("Compliance Manager"), Ok(Role::ComplianceManager));
        assert!(Role::parse("root").unwrap_err().contains("admin, compliance_manager"));
    }

    #[test]
    fn the_table_says_what_the_issue_asks() {
        use Action::*;
        use Area::*;
        let cases = [
            (Role::Admin, Settings, Write, Reach::All),
            (Role::ComplianceManager, Settings, Read, Reach::None),
            (Role::ComplianceManager, Policies, Write, Reach::All),
            (Role::ControlOwner, Evidence, Write, Reach::Own),
            (Role::ControlOwner, Controls, Write, Reach::Own),
            (Role::ControlOwner, Policies, Write, Reach::None),
            (Role::Employee, Controls, Read, Reach::None),
            (Role::Employee, Me, Write, Reach::All),
            (Role::Auditor, Evidence, Write, Reach::None),
            (Role::Auditor, Settings, Read, Reach::None),
            (Role::Auditor, Evidence, Read, Reach::InScope),
            (Role::Auditor, AuditLog, Read, Reach::All),
            (Role::Viewer, Dashboard, Read, Reach::All),
            (Role::Auditor, Window, Read, Reach::All),
            (Role::Auditor, Window, Write, Reach::None),
            (Role::ControlOwner, Window, Write, Reach::None),
            (Role::ComplianceManager, Window, Write, Reach::All),
            (Role::Employee, Window, Read, Reach::None),
            (Role::Viewer, Risks, Write, Reach::None),
            (Role::Auditor, Fieldwork, Write, Reach::InScope),
            (Role::Admin, Jobs, Write, Reach::All),
            (Role::ComplianceManager, Jobs, Read, Reach::All),
            (Role::ComplianceManager, Jobs, Write, Reach::None),
            (Role::ControlOwner, Jobs, Write, Reach::None),
            (Role::Auditor, Jobs, Read, Reach::None),
            (Role::Employee, Jobs, Read, Reach::None),
            (Role::ControlOwner, Fieldwork, Write, Reach::Own),
            (Role::Employee, Fieldwork, Read, Reach::None),
            (Role::Viewer, Fieldwork, Write, Reach::None),
            (Role::Employee, AccessReviews, Write, Reach::Own),
            (Role::Employee, AccessReviews, Read, Reach::Own),
            (Role::ControlOwner, AccessReviews, Write, Reach::Own),
            (Role::ComplianceManager, AccessReviews, Write, Reach::All),
            (Role::Auditor, AccessReviews, Write, Reach::None),
            (Role::Viewer, AccessReviews, Write, Reach::None),
        ];
        for (role, area, action, want) in cases {
            assert_eq!(reach(role, area, action), want, "{role:?} {area:?} {action:?}");
        }
    }

    #[test]
    fn only_admins_write_settings_and_nobody_but_admins_reads_them() {
        for r in ROLES {
            let read = reach(r, Area::Settings, Action::Read);
            assert_eq!(read == Reach::All, r == Role::Admin, "{r:?}");
        }
    }
}
