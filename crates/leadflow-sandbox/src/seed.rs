//! Initial data: HubSpot's own properties, groups and default pipeline for every portal,
//! and for the demo seed owners, the spec's four sequences, `lead_source`, and realistic
//! outbound contacts, companies, deals and tasks.

use std::collections::BTreeMap;

use crate::config::Seed;
use crate::state::{
    Data, GroupDef, OptionDef, OwnerDef, PipelineDef, PropertyDef, Record, SequenceDef, StageDef,
    created_prop, iso, modified_prop, now_ms,
};

fn prop(
    name: &str,
    label: &str,
    type_: &str,
    field_type: &str,
    group: &str,
    options: &[&str],
    read_only: bool,
) -> PropertyDef {
    PropertyDef {
        name: name.to_owned(),
        label: label.to_owned(),
        type_: type_.to_owned(),
        field_type: field_type.to_owned(),
        group_name: group.to_owned(),
        description: String::new(),
        options: options
            .iter()
            .enumerate()
            .map(|(i, o)| OptionDef {
                label: label_of(o),
                value: (*o).to_owned(),
                hidden: false,
                display_order: Some(i as i64),
                description: None,
            })
            .collect(),
        display_order: None,
        has_unique_value: false,
        hidden: false,
        form_field: !read_only,
        hubspot_defined: true,
        read_only,
        archived: false,
        created: 0,
        updated: 0,
    }
}

fn label_of(value: &str) -> String {
    value
        .replace('_', " ")
        .to_lowercase()
        .split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn hubspot_properties(owners: &[&str]) -> BTreeMap<String, Vec<PropertyDef>> {
    let lifecycle = [
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
        "evangelist",
        "other",
    ];
    let t = |n, l| prop(n, l, "string", "text", "contactinformation", &[], false);
    let contacts = vec![
        t("email", "Email"),
        t("firstname", "First Name"),
        t("lastname", "Last Name"),
        t("company", "Company Name"),
        t("jobtitle", "Job Title"),
        prop(
            "phone",
            "Phone Number",
            "string",
            "phonenumber",
            "contactinformation",
            &[],
            false,
        ),
        t("website", "Website URL"),
        t("city", "City"),
        t("country", "Country/Region"),
        prop(
            "lifecyclestage",
            "Lifecycle Stage",
            "enumeration",
            "radio",
            "contactinformation",
            &lifecycle,
            false,
        ),
        prop(
            "hubspot_owner_id",
            "Contact owner",
            "enumeration",
            "select",
            "contactinformation",
            owners,
            false,
        ),
        prop(
            "hs_object_id",
            "Record ID",
            "number",
            "number",
            "contactinformation",
            &[],
            true,
        ),
        prop(
            "createdate",
            "Create Date",
            "datetime",
            "date",
            "contactinformation",
            &[],
            true,
        ),
        prop(
            "lastmodifieddate",
            "Last Modified Date",
            "datetime",
            "date",
            "contactinformation",
            &[],
            true,
        ),
    ];
    let c = |n, l| prop(n, l, "string", "text", "companyinformation", &[], false);
    let companies = vec![
        c("name", "Company name"),
        c("domain", "Company Domain Name"),
        c("industry", "Industry"),
        c("city", "City"),
        c("country", "Country/Region"),
        c("website", "Website URL"),
        c("phone", "Phone Number"),
        prop(
            "numberofemployees",
            "Number of Employees",
            "number",
            "number",
            "companyinformation",
            &[],
            false,
        ),
        prop(
            "hubspot_owner_id",
            "Company owner",
            "enumeration",
            "select",
            "companyinformation",
            owners,
            false,
        ),
        prop(
            "hs_object_id",
            "Record ID",
            "number",
            "number",
            "companyinformation",
            &[],
            true,
        ),
        prop(
            "createdate",
            "Create Date",
            "datetime",
            "date",
            "companyinformation",
            &[],
            true,
        ),
        prop(
            "hs_lastmodifieddate",
            "Last Modified Date",
            "datetime",
            "date",
            "companyinformation",
            &[],
            true,
        ),
    ];
    let deals = vec![
        prop(
            "dealname",
            "Deal Name",
            "string",
            "text",
            "dealinformation",
            &[],
            false,
        ),
        prop(
            "amount",
            "Amount",
            "number",
            "number",
            "dealinformation",
            &[],
            false,
        ),
        prop(
            "dealstage",
            "Deal Stage",
            "enumeration",
            "radio",
            "dealinformation",
            &[
                "appointmentscheduled",
                "qualifiedtobuy",
                "presentationscheduled",
                "decisionmakerboughtin",
                "contractsent",
                "closedwon",
                "closedlost",
            ],
            false,
        ),
        prop(
            "pipeline",
            "Pipeline",
            "enumeration",
            "select",
            "dealinformation",
            &["default"],
            false,
        ),
        prop(
            "closedate",
            "Close Date",
            "datetime",
            "date",
            "dealinformation",
            &[],
            false,
        ),
        prop(
            "hubspot_owner_id",
            "Deal owner",
            "enumeration",
            "select",
            "dealinformation",
            owners,
            false,
        ),
        prop(
            "hs_object_id",
            "Record ID",
            "number",
            "number",
            "dealinformation",
            &[],
            true,
        ),
        prop(
            "createdate",
            "Create Date",
            "datetime",
            "date",
            "dealinformation",
            &[],
            true,
        ),
        prop(
            "hs_lastmodifieddate",
            "Last Modified Date",
            "datetime",
            "date",
            "dealinformation",
            &[],
            true,
        ),
    ];
    let tasks = vec![
        prop(
            "hs_timestamp",
            "Due date",
            "datetime",
            "date",
            "taskinformation",
            &[],
            false,
        ),
        prop(
            "hs_task_subject",
            "Task Title",
            "string",
            "text",
            "taskinformation",
            &[],
            false,
        ),
        prop(
            "hs_task_body",
            "Notes",
            "string",
            "textarea",
            "taskinformation",
            &[],
            false,
        ),
        prop(
            "hs_task_status",
            "Task Status",
            "enumeration",
            "select",
            "taskinformation",
            &[
                "NOT_STARTED",
                "IN_PROGRESS",
                "WAITING",
                "COMPLETED",
                "DEFERRED",
            ],
            false,
        ),
        prop(
            "hs_task_priority",
            "Priority",
            "enumeration",
            "select",
            "taskinformation",
            &["LOW", "MEDIUM", "HIGH"],
            false,
        ),
        prop(
            "hs_task_type",
            "Task Type",
            "enumeration",
            "select",
            "taskinformation",
            &["EMAIL", "CALL", "TODO"],
            false,
        ),
        prop(
            "hubspot_owner_id",
            "Assigned to",
            "enumeration",
            "select",
            "taskinformation",
            owners,
            false,
        ),
        prop(
            "hs_object_id",
            "Record ID",
            "number",
            "number",
            "taskinformation",
            &[],
            true,
        ),
        prop(
            "hs_createdate",
            "Create Date",
            "datetime",
            "date",
            "taskinformation",
            &[],
            true,
        ),
        prop(
            "hs_lastmodifieddate",
            "Last Modified Date",
            "datetime",
            "date",
            "taskinformation",
            &[],
            true,
        ),
    ];
    BTreeMap::from([
        ("contacts".to_owned(), contacts),
        ("companies".to_owned(), companies),
        ("deals".to_owned(), deals),
        ("tasks".to_owned(), tasks),
    ])
}

const STAGES: [(&str, &str, &str); 7] = [
    ("appointmentscheduled", "Appointment Scheduled", "0.2"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4"),
    ("presentationscheduled", "Presentation Scheduled", "0.6"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
    ("contractsent", "Contract Sent", "0.9"),
    ("closedwon", "Closed Won", "1.0"),
    ("closedlost", "Closed Lost", "0.0"),
];

const FIRST: [&str; 24] = [
    "Anna", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keira",
    "Liam", "Maya", "Nils", "Olivia", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wen", "Yusuf",
];
const LAST: [&str; 24] = [
    "Schmidt",
    "Okafor",
    "Martin",
    "Kowalski",
    "Rossi",
    "Haddad",
    "Nguyen",
    "Tanaka",
    "Garcia",
    "Berg",
    "Murphy",
    "Silva",
    "Patel",
    "Larsen",
    "Dubois",
    "Costa",
    "Fischer",
    "Novak",
    "Ahmed",
    "Kim",
    "Weber",
    "Moreau",
    "Lindqvist",
    "Sato",
];
const COMPANIES: [&str; 20] = [
    "Northwind Logistics",
    "Bluepeak Analytics",
    "Crescent Foods",
    "Atlas Robotics",
    "Harbor Health",
    "Lumen Energy",
    "Quarry Software",
    "Vantage Retail",
    "Ironclad Security",
    "Meridian Travel",
    "Pinecone Labs",
    "Solstice Media",
    "Tidewater Marine",
    "Granite Capital",
    "Orbit Telecom",
    "Summit Education",
    "Kestrel Aviation",
    "Willow Biotech",
    "Beacon Insurance",
    "Cobalt Manufacturing",
];
const TITLES: [&str; 10] = [
    "VP Sales",
    "Head of Operations",
    "CTO",
    "Marketing Director",
    "Founder & CEO",
    "Procurement Manager",
    "Head of Growth",
    "IT Director",
    "COO",
    "Sales Operations Lead",
];
const CITIES: [(&str, &str); 8] = [
    ("Berlin", "Germany"),
    ("London", "United Kingdom"),
    ("Austin", "United States"),
    ("Lisbon", "Portugal"),
    ("Toronto", "Canada"),
    ("Stockholm", "Sweden"),
    ("Paris", "France"),
    ("Singapore", "Singapore"),
];
const STAGE_IDS: [&str; 4] = [
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
];

fn domain(company: &str) -> String {
    company
        .split_whitespace()
        .next()
        .unwrap_or("example")
        .to_lowercase()
        + ".example"
}

fn insert(data: &mut Data, t: &str, mut props: BTreeMap<String, String>, at: i64) -> u64 {
    let id = data.next_record_id(t);
    props.insert("hs_object_id".to_owned(), id.to_string());
    props.insert(created_prop(t).to_owned(), iso(at));
    props.insert(modified_prop(t).to_owned(), iso(at));
    if t == "contacts" {
        if let Some(e) = props.get("email") {
            data.emails.insert(e.to_lowercase(), id);
        }
    }
    data.records.entry(t.to_owned()).or_default().insert(
        id,
        Record {
            id,
            props,
            created: at,
            updated: at,
            archived: false,
            archived_at: None,
            merged_into: None,
            previous: None,
        },
    );
    id
}

/// Adds `n` contacts with unique emails; returns their ids.
pub(crate) fn contacts(data: &mut Data, n: usize, seed: u64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let owners: Vec<String> = data.owners.iter().map(|o| o.id.clone()).collect();
    let now = now_ms();
    let start = data.next_id.get("contacts").copied().unwrap_or(1001);
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let first = FIRST[rng.usize(..FIRST.len())];
        let last = LAST[rng.usize(..LAST.len())];
        let company = COMPANIES[rng.usize(..COMPANIES.len())];
        let (city, country) = CITIES[rng.usize(..CITIES.len())];
        let mut p = BTreeMap::new();
        p.insert(
            "email".to_owned(),
            format!(
                "{}.{}.{}{}@{}",
                first.to_lowercase(),
                last.to_lowercase(),
                start,
                i,
                domain(company)
            ),
        );
        p.insert("firstname".to_owned(), first.to_owned());
        p.insert("lastname".to_owned(), last.to_owned());
        p.insert("company".to_owned(), company.to_owned());
        p.insert(
            "jobtitle".to_owned(),
            TITLES[rng.usize(..TITLES.len())].to_owned(),
        );
        p.insert(
            "phone".to_owned(),
            format!("+1 555 {:04}", rng.u32(0..10_000)),
        );
        p.insert("city".to_owned(), city.to_owned());
        p.insert("country".to_owned(), country.to_owned());
        p.insert(
            "lifecyclestage".to_owned(),
            if rng.u8(0..3) == 0 {
                "subscriber"
            } else {
                "lead"
            }
            .to_owned(),
        );
        if !owners.is_empty() {
            p.insert(
                "hubspot_owner_id".to_owned(),
                owners[rng.usize(..owners.len())].clone(),
            );
        }
        ids.push(insert(data, "contacts", p, now - rng.i64(0..30 * 86_400_000)).to_string());
    }
    ids
}

/// The data a sandbox starts with.
pub(crate) fn build(seed: Seed) -> Data {
    let mut data = Data::default();
    let owner_ids: Vec<String> = ["101", "102", "103"].map(String::from).to_vec();
    let owner_refs: Vec<&str> = if seed == Seed::Demo {
        owner_ids.iter().map(String::as_str).collect()
    } else {
        Vec::new()
    };
    data.properties = hubspot_properties(&owner_refs);
    for (t, name, label) in [
        ("contacts", "contactinformation", "Contact information"),
        ("companies", "companyinformation", "Company information"),
        ("deals", "dealinformation", "Deal information"),
        ("tasks", "taskinformation", "Task information"),
    ] {
        data.groups.insert(
            t.to_owned(),
            vec![GroupDef {
                name: name.to_owned(),
                label: label.to_owned(),
                display_order: 0,
                archived: false,
            }],
        );
    }
    data.pipelines = vec![PipelineDef {
        id: "default".to_owned(),
        label: "Sales Pipeline".to_owned(),
        display_order: 0,
        stages: STAGES
            .iter()
            .enumerate()
            .map(|(i, (id, label, p))| {
                let mut metadata = BTreeMap::from([("probability".to_owned(), (*p).to_owned())]);
                metadata.insert(
                    "isClosed".to_owned(),
                    (id.starts_with("closed")).to_string(),
                );
                StageDef {
                    id: (*id).to_owned(),
                    label: (*label).to_owned(),
                    display_order: i as i64,
                    metadata,
                    archived: false,
                    created: 0,
                }
            })
            .collect(),
        created: 0,
    }];
    if seed == Seed::Empty {
        return data;
    }
    data.owners = vec![
        OwnerDef {
            id: "101".into(),
            user_id: 9001,
            email: "alex.morgan@sandbox.example".into(),
            first_name: "Alex".into(),
            last_name: "Morgan".into(),
        },
        OwnerDef {
            id: "102".into(),
            user_id: 9002,
            email: "sam.rivera@sandbox.example".into(),
            first_name: "Sam".into(),
            last_name: "Rivera".into(),
        },
        OwnerDef {
            id: "103".into(),
            user_id: 9003,
            email: "jo.fischer@sandbox.example".into(),
            first_name: "Jo".into(),
            last_name: "Fischer".into(),
        },
    ];
    let day = 86_400_000;
    data.sequences = [
        "Manual Outreach Follow-up",
        "Automated Outreach Follow-up",
        "Not Interested Nurture",
        "No Response Follow-up",
    ]
    .iter()
    .enumerate()
    .map(|(i, name)| SequenceDef {
        id: (400 + i).to_string(),
        name: (*name).to_owned(),
        user_id: "9001".to_owned(),
        steps: vec![
            ("EMAIL".to_owned(), 0),
            ("TASK".to_owned(), 3 * day),
            ("EMAIL".to_owned(), 7 * day),
            ("FINISH_ENROLLMENT".to_owned(), 14 * day),
        ],
        created: 0,
    })
    .collect();
    if let Some(contacts) = data.properties.get_mut("contacts") {
        let mut lead_source = prop(
            "lead_source",
            "Lead Source",
            "enumeration",
            "select",
            "contactinformation",
            &["Inbound", "Outbound", "Referral"],
            false,
        );
        lead_source.hubspot_defined = false;
        for o in &mut lead_source.options {
            o.label = o.value.clone();
        }
        contacts.push(lead_source);
    }
    let mut rng = fastrand::Rng::with_seed(2026);
    let now = now_ms();
    let mut company_ids = Vec::new();
    for (i, name) in COMPANIES.iter().cycle().take(60).enumerate() {
        let (city, country) = CITIES[i % CITIES.len()];
        let p = BTreeMap::from([
            (
                "name".to_owned(),
                if i < COMPANIES.len() {
                    (*name).to_owned()
                } else {
                    format!("{name} {}", i / COMPANIES.len() + 1)
                },
            ),
            (
                "domain".to_owned(),
                if i < COMPANIES.len() {
                    domain(name)
                } else {
                    format!(
                        "{}{}.example",
                        name.split_whitespace().next().unwrap_or("x").to_lowercase(),
                        i
                    )
                },
            ),
            ("city".to_owned(), city.to_owned()),
            ("country".to_owned(), country.to_owned()),
            (
                "industry".to_owned(),
                ["Software", "Logistics", "Healthcare", "Retail", "Finance"][i % 5].to_owned(),
            ),
            (
                "numberofemployees".to_owned(),
                (20 + rng.u32(0..2000)).to_string(),
            ),
            ("hubspot_owner_id".to_owned(), owner_ids[i % 3].clone()),
        ]);
        company_ids.push(insert(
            &mut data,
            "companies",
            p,
            now - rng.i64(0..60 * day),
        ));
    }
    let contact_ids: Vec<u64> = contacts(&mut data, 300, 7)
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    for (i, c) in contact_ids.iter().enumerate() {
        if let Some(r) = data.records.get_mut("contacts").and_then(|m| m.get_mut(c)) {
            if i % 4 != 0 {
                r.props
                    .insert("lead_source".to_owned(), "Outbound".to_owned());
            } else {
                r.props
                    .insert("lead_source".to_owned(), "Inbound".to_owned());
            }
        }
        let company = company_ids[i % company_ids.len()];
        data.associations.push((
            ("contacts".to_owned(), *c, "companies".to_owned(), company),
            vec![
                ("HUBSPOT_DEFINED".to_owned(), 279),
                ("HUBSPOT_DEFINED".to_owned(), 1),
            ],
        ));
    }
    for i in 0..80 {
        let contact = contact_ids[i * 3 % contact_ids.len()];
        let name = data
            .records
            .get("contacts")
            .and_then(|m| m.get(&contact))
            .map(|r| {
                format!(
                    "{} {} - {}",
                    r.props.get("firstname").cloned().unwrap_or_default(),
                    r.props.get("lastname").cloned().unwrap_or_default(),
                    r.props.get("company").cloned().unwrap_or_default()
                )
            });
        let p = BTreeMap::from([
            (
                "dealname".to_owned(),
                name.unwrap_or_else(|| format!("Deal {i}")),
            ),
            (
                "amount".to_owned(),
                (1_000 * (1 + rng.u32(0..50))).to_string(),
            ),
            (
                "dealstage".to_owned(),
                STAGE_IDS[i % STAGE_IDS.len()].to_owned(),
            ),
            ("pipeline".to_owned(), "default".to_owned()),
            ("hubspot_owner_id".to_owned(), owner_ids[i % 3].clone()),
        ]);
        let deal = insert(&mut data, "deals", p, now - rng.i64(0..30 * day));
        data.associations.push((
            ("deals".to_owned(), deal, "contacts".to_owned(), contact),
            vec![("HUBSPOT_DEFINED".to_owned(), 3)],
        ));
        data.associations.push((
            (
                "deals".to_owned(),
                deal,
                "companies".to_owned(),
                company_ids[i % company_ids.len()],
            ),
            vec![("HUBSPOT_DEFINED".to_owned(), 341)],
        ));
    }
    for i in 0..40 {
        let contact = contact_ids[i * 7 % contact_ids.len()];
        let p = BTreeMap::from([
            ("hs_timestamp".to_owned(), iso(now + (i as i64 - 10) * day)),
            (
                "hs_task_subject".to_owned(),
                format!("Follow up with contact {contact}"),
            ),
            (
                "hs_task_status".to_owned(),
                if i % 3 == 0 {
                    "COMPLETED"
                } else {
                    "NOT_STARTED"
                }
                .to_owned(),
            ),
            (
                "hs_task_priority".to_owned(),
                ["LOW", "MEDIUM", "HIGH"][i % 3].to_owned(),
            ),
            (
                "hs_task_type".to_owned(),
                ["EMAIL", "CALL", "TODO"][i % 3].to_owned(),
            ),
            ("hubspot_owner_id".to_owned(), owner_ids[i % 3].clone()),
        ]);
        let task = insert(&mut data, "tasks", p, now - rng.i64(0..20 * day));
        data.associations.push((
            ("tasks".to_owned(), task, "contacts".to_owned(), contact),
            vec![("HUBSPOT_DEFINED".to_owned(), 204)],
        ));
    }
    data
}
