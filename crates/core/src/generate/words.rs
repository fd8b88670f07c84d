//! Word lists the generated company is made of. Invented or generic; any resemblance to a
//! real company is chance.

pub const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca", "Maya", "Nikhil",
    "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zoe", "Amir", "Bea",
    "Caleb", "Dara", "Emeka", "Fatima", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Marco", "Nadia", "Omar",
    "Priya", "Rafael", "Sara", "Tomas", "Uma", "Viktor", "Wanda", "Yara", "Zain", "Alice", "Bruno", "Carmen", "Dmitri",
    "Esther", "Felix", "Gita", "Hugo", "Isla", "Jamal", "Kira", "Leo", "Mila", "Noah", "Oona", "Pablo", "Rhea", "Sami",
    "Theo", "Ula", "Vik", "Will", "Yosef", "Zara", "Anika", "Boris", "Cleo", "Diego", "Elif", "Finn",
];

pub const LAST: &[&str] = &[
    "Abara",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Adeyemi",
    "Bauer",
    "Chen",
    "Diaz",
    "Evans",
    "Ferreira",
    "Gupta",
    "Hansen",
    "Iyer",
    "Jovanovic",
    "Kim",
    "Larsen",
    "Mensah",
    "Novak",
    "Olsen",
    "Park",
    "Reyes",
    "Schmidt",
    "Torres",
    "Usman",
    "Vos",
    "Wang",
    "Yamada",
    "Zulu",
    "Ahmed",
    "Brooks",
    "Cruz",
    "Dalton",
    "Endo",
    "Farah",
    "Grant",
    "Holm",
    "Ivanova",
    "Juarez",
];

/// (department, share of staff in per-mille, job titles)
pub const DEPARTMENTS: &[(&str, u32, &[&str])] = &[
    (
        "Engineering",
        340,
        &[
            "Software Engineer",
            "Senior Software Engineer",
            "Staff Engineer",
            "Engineering Manager",
            "QA Engineer",
        ],
    ),
    (
        "Infrastructure",
        40,
        &["Site Reliability Engineer", "Platform Engineer", "Database Engineer"],
    ),
    (
        "Security",
        20,
        &["Security Engineer", "Security Analyst", "GRC Analyst"],
    ),
    ("IT", 25, &["IT Support Specialist", "Systems Administrator"]),
    ("Product", 60, &["Product Manager", "Product Designer", "UX Researcher"]),
    ("Data", 40, &["Data Engineer", "Data Analyst", "Data Scientist"]),
    (
        "Sales",
        180,
        &[
            "Account Executive",
            "Sales Development Representative",
            "Sales Engineer",
        ],
    ),
    (
        "Customer Success",
        130,
        &[
            "Support Engineer",
            "Customer Success Manager",
            "Technical Account Manager",
        ],
    ),
    (
        "Marketing",
        70,
        &["Marketing Manager", "Content Writer", "Growth Analyst"],
    ),
    (
        "Finance",
        40,
        &["Accountant", "Financial Analyst", "Payroll Specialist"],
    ),
    (
        "People",
        35,
        &["People Partner", "Recruiter", "People Operations Specialist"],
    ),
    ("Legal", 20, &["Counsel", "Contracts Manager", "Privacy Analyst"]),
];

/// The leadership every generated company has: (title, department, owner roles they hold).
pub const LEADERS: &[(&str, &str, &[&str])] = &[
    ("Chief Executive Officer", "Executive", &["executive"]),
    ("Chief Technology Officer", "Engineering", &["engineering"]),
    ("Head of Security", "Security", &["security"]),
    ("Compliance Manager", "Security", &["compliance"]),
    ("Head of Infrastructure", "Infrastructure", &["infrastructure"]),
    ("IT Manager", "IT", &["it"]),
    ("VP People", "People", &["hr"]),
    ("General Counsel", "Legal", &["legal"]),
    ("Data Protection Lead", "Legal", &["privacy"]),
    ("Head of Support", "Customer Success", &["support"]),
    ("Chief Financial Officer", "Finance", &["finance"]),
];

/// (vendor name stem, service, data shared)
pub const VENDOR_KINDS: &[(&str, &str, &[&str])] = &[
    ("Cloud", "Cloud hosting", &["customer_data", "logs"]),
    (
        "Identity",
        "Single sign-on and directory",
        &["employee_data", "credentials"],
    ),
    (
        "Mail",
        "Email and productivity suite",
        &["employee_data", "customer_data"],
    ),
    ("Pay", "Payment processing", &["payment_data", "customer_data"]),
    ("Ticket", "Support ticketing", &["customer_data"]),
    ("Metrics", "Monitoring and logging", &["logs"]),
    ("Chat", "Team messaging", &["employee_data"]),
    ("Code", "Source code hosting", &["source_code"]),
    ("Payroll", "Payroll and benefits", &["employee_data", "financial_data"]),
    ("Screen", "Background screening", &["employee_data"]),
    ("Backup", "Off-site backups", &["customer_data"]),
    ("Sign", "Electronic signatures", &["contracts"]),
    ("Learn", "Security awareness training", &["employee_data"]),
    ("Analytics", "Product analytics", &["usage_data"]),
    ("Office", "Office supplies", &[]),
    ("Travel", "Travel booking", &["employee_data"]),
];

/// How the report presents the critical vendors the system relies on.
pub struct Presentation {
    pub stem: &'static str,
    pub presentation: &'static str,
    pub criteria: &'static [&'static str],
    pub csocs: &'static [&'static str],
    pub cuecs: &'static [&'static str],
}

pub const SUBSERVICE_VENDORS: &[Presentation] = &[
    Presentation {
        stem: "Cloud",
        presentation: "carve_out",
        criteria: &["CC6.4", "CC6.5", "A1.2"],
        csocs: &[
            "Entry to data centres is limited to authorised staff and logged",
            "Power, cooling and fire protection in data centres are maintained and tested",
            "Disks that held customer data are wiped or destroyed before they leave a data centre",
        ],
        cuecs: &[
            "Grant and review access to the cloud console",
            "Turn on encryption for stored customer data",
            "Configure backups and test restoring them",
        ],
    },
    Presentation {
        stem: "Identity",
        presentation: "carve_out",
        criteria: &["CC6.1", "CC6.2"],
        csocs: &[
            "The directory enforces the sign-in and multi-factor policies a tenant configures",
            "The provider's own staff reach tenant data only through approved, reviewed access",
        ],
        cuecs: &[
            "Require multi-factor authentication for every user",
            "Remove leavers from the directory on their last day",
        ],
    },
    Presentation {
        stem: "Mail",
        presentation: "not_subservice",
        criteria: &[],
        csocs: &[],
        cuecs: &[],
    },
];

pub const VENDOR_SUFFIXES: &[&str] = &[
    "ly", "io", "works", "hub", "base", "stack", "wise", "pilot", "forge", "nest", "grid", "scope", "loop", "ware",
    "kit",
];

pub const SERVICES: &[&str] = &[
    "api",
    "web",
    "billing",
    "auth",
    "search",
    "ingest",
    "reports",
    "notifications",
    "scheduler",
    "exports",
    "gateway",
    "admin",
    "sync",
    "audit",
    "files",
    "webhooks",
    "ledger",
    "metrics",
    "mailer",
    "workers",
];

pub const CHANGE_VERBS: &[&str] = &[
    "Fix", "Add", "Remove", "Refactor", "Update", "Speed up", "Harden", "Document", "Test", "Rename",
];

pub const CHANGE_OBJECTS: &[&str] = &[
    "pagination on the list endpoint",
    "retry logic for outbound webhooks",
    "session timeout handling",
    "CSV export encoding",
    "the invoice rounding rule",
    "dependency versions",
    "rate limiting on login",
    "database index on events",
    "error messages on the signup form",
    "feature flag for the new editor",
    "audit logging for admin actions",
    "the nightly cleanup job",
];

/// (package, vulnerable version) pairs scanners report on container images.
pub const PACKAGES: &[&str] = &[
    "openssl", "libxml2", "zlib", "curl", "glibc", "busybox", "expat", "sqlite", "libpng", "ncurses", "krb5",
    "libssh2", "pcre2", "gnutls", "tar", "nghttp2",
];

/// Cloud misconfigurations a posture scanner reports: (check id, title, severity).
pub const MISCONFIGS: &[(&str, &str, &str)] = &[
    ("s3_bucket_public_access", "Storage bucket allows public access", "High"),
    (
        "iam_password_policy_length",
        "Password policy allows short passwords",
        "Medium",
    ),
    (
        "cloudtrail_multi_region",
        "Audit trail not enabled in every region",
        "High",
    ),
    ("ec2_sg_open_ssh", "Security group allows SSH from anywhere", "Critical"),
    ("rds_storage_encrypted", "Database storage not encrypted", "High"),
    ("kms_key_rotation", "Key rotation disabled on a customer key", "Medium"),
    ("vpc_flow_logs", "Network flow logs disabled", "Medium"),
    ("guardduty_enabled", "Threat detection disabled in a region", "Low"),
    ("ebs_snapshot_public", "Disk snapshot shared publicly", "Critical"),
    ("iam_unused_credentials", "Credentials unused for 90 days", "Low"),
];

pub const LAPTOP_MODELS: &[&str] = &["macOS 15.2", "macOS 14.7", "Windows 11 23H2", "Ubuntu 24.04"];
