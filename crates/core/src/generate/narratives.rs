//! What a generated company's people would write in its system description: the product, its
//! promises, where it runs, and what customers must do themselves. One profile per company name.

/// (organisation, services, commitments, data).
const PROFILES: &[(&str, &str, &str, &str)] = &[
    (
        "Northwind Cloud",
        "Northwind Cloud sells a hosted freight-scheduling service to mid-sized logistics firms. Dispatchers plan loads in the web application, drivers confirm pickups in the mobile app, and customers' own systems exchange orders through the API. The service is sold by annual subscription and run entirely by Northwind's own engineering team.",
        "Contracts promise 99.9% monthly availability of the web application and API, restoration of customer data to within 24 hours of any point in the last 35 days, notice of a security incident affecting a customer within 72 hours, and deletion of a departing customer's data within 30 days of the end of the contract.",
        "Orders, shipment events and customer user accounts are stored in the production databases; payment card numbers never reach Northwind (the payment processor holds them). Data is classified restricted (customer data), confidential (internal records) or internal.",
    ),
    (
        "Bluefin Analytics",
        "Bluefin Analytics runs a product-analytics platform for consumer apps. Customers send usage events from their apps through Bluefin's SDKs and ingestion API; their product teams explore funnels, retention and experiments in the Bluefin web application and export results to their own warehouses.",
        "The master subscription agreement commits Bluefin to 99.9% availability of ingestion and 99.5% of the web application each month, to processing events within 15 minutes of receipt, to keeping each customer's data logically separate, to notifying customers of a personal-data breach within 72 hours, and to deleting a customer's events within 30 days of a deletion request.",
        "Event streams, derived aggregates and customer user accounts are held in the production data stores; events carry pseudonymous identifiers chosen by the customer. Customer data is classified restricted; Bluefin's own records confidential or internal.",
    ),
    (
        "Cobalt Ledger",
        "Cobalt Ledger provides accounting and invoicing software to small businesses and their accountants. Customers keep their books, send invoices and reconcile bank feeds in the Cobalt web application; accountants reach their clients' books through delegated access.",
        "Customer terms promise 99.9% availability during business hours, daily backups kept for 30 days, encryption of customer data in transit and at rest, notice of a security incident within 72 hours, and export of a customer's books on request in open formats.",
        "Ledgers, invoices, bank-feed transactions and user accounts are stored in the production databases; bank credentials are held only by the bank-feed provider. Financial records are classified restricted.",
    ),
    (
        "Harbor Health Data",
        "Harbor Health Data hosts a scheduling and patient-messaging service for outpatient clinics. Clinic staff manage appointments in the web application and patients receive reminders by SMS and email; clinics connect their practice-management systems through the API.",
        "Business associate agreements and customer terms commit Harbor to 99.9% monthly availability, to encrypting patient data in transit and at rest, to notifying clinics of a breach of patient data within 72 hours, and to returning or deleting a clinic's data within 30 days of termination.",
        "Appointments, contact details and message history of patients are stored in the production databases and classified restricted; clinic configuration and staff accounts are confidential.",
    ),
];

/// The narrative parts (key, text) for `organisation`, or none for a name without a profile.
pub fn narratives(organisation: &str, region: &str) -> Vec<(&'static str, String)> {
    let Some((_, services, commitments, data)) = PROFILES.iter().find(|(o, ..)| *o == organisation) else {
        return Vec::new();
    };
    vec![
        ("services", (*services).to_string()),
        ("commitments", (*commitments).to_string()),
        (
            "infrastructure",
            format!(
                "Production runs in one cloud provider account in {region}, separate from the staging and development accounts. Services run as containers behind a managed load balancer; databases and object storage are managed services with encryption at rest. Staff reach production only through single sign-on and short-lived roles."
            ),
        ),
        (
            "software",
            format!(
                "{organisation}'s own services (the web application, the API and background workers) are built from source in the company's code repositories and deployed by the CI pipeline after review. Supporting software is bought as a service and recorded in the vendor register."
            ),
        ),
        (
            "people",
            format!(
                "{organisation}'s leadership team sets security objectives and reviews them each quarter. A security lead runs the information security program; engineering builds and operates the system; IT manages staff devices and accounts; people operations runs hiring, onboarding and offboarding."
            ),
        ),
        (
            "procedures",
            "Changes reach production only through reviewed pull requests and the deployment pipeline. Access is granted on request with approval, reviewed each quarter and removed on departure. Incidents follow the incident response plan; backups are tested by restoring them; vulnerabilities are fixed within the deadlines the vulnerability management policy sets.".to_string(),
        ),
        ("data", (*data).to_string()),
        (
            "user_entity_controls",
            "Customers add and remove their own users and review who has access to their account.\nCustomers protect the credentials and API keys issued to them and rotate keys they suspect are exposed.\nCustomers tell us promptly of suspected misuse of their account.\nCustomers decide what data they send to the service and have the right to send it.".to_string(),
        ),
    ]
}
