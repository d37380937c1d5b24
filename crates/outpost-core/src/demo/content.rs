//! What the demo community holds: colleagues, cases, questions, protocols,
//! replies and outcomes, written to read like a real district's exchange.

use outpost_model::{AgeBand, ProtocolStatus, Setting, Sex};

pub(super) struct Colleague {
    pub(super) name: &'static str,
    pub(super) profession: &'static str,
    pub(super) region: &'static str,
    pub(super) expertise: &'static [&'static str],
}

pub(super) const COLLEAGUES: &[Colleague] = &[
    Colleague {
        name: "Dr Amina Yusuf",
        profession: "General practitioner",
        region: "North Valley",
        expertise: &["paediatrics", "asthma"],
    },
    Colleague {
        name: "Tomás Herrera",
        profession: "Nurse practitioner",
        region: "Sierra Alta",
        expertise: &["wound-care", "diabetes"],
    },
    Colleague {
        name: "Dr Ruth Okafor",
        profession: "Rural generalist",
        region: "District hospital",
        expertise: &["emergency", "obstetrics"],
    },
    Colleague {
        name: "Kiri Walker",
        profession: "Remote area nurse",
        region: "Coastal outreach",
        expertise: &["sepsis", "retrieval"],
    },
];

pub(super) type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    AgeBand,
    Sex,
    Setting,
    &'static str,
    &'static [&'static str],
);

/// (title, presenting, history, findings, age, sex, setting, ask, tags)
pub(super) const CASES: &[Case] = &[
    (
        "Febrile toddler with petechial rash, 3 h from transfer",
        "Fever 39.4 °C for 12 hours, irritable, new non-blanching spots on the legs noticed by the parent this morning.",
        "Previously well, immunisations up to date. No sick contacts known.",
        "HR 168, CRT 3 s, petechiae on both shins, no neck stiffness. No point-of-care lactate available.",
        AgeBand::Toddler,
        Sex::Female,
        Setting::Clinic,
        "IM ceftriaxone before transfer or wait for the retrieval team? What fluids while we wait?",
        &["sepsis", "paediatrics", "retrieval"],
    ),
    (
        "Farmer with chest pain and a normal first ECG",
        "Central chest tightness for 2 hours after heavy lifting, radiating to the left arm, eased at rest.",
        "Smoker, treated hypertension, father had an MI in his fifties.",
        "BP 152/94, HR 88, first ECG sinus rhythm without ST changes. No troponin on site.",
        AgeBand::MiddleAge,
        Sex::Male,
        Setting::Clinic,
        "How long do you observe with serial ECGs before deciding on the 4-hour road transfer?",
        &["chest-pain", "cardiology", "transfer"],
    ),
    (
        "Snakebite on the ankle, no envenomation signs yet",
        "Bitten while clearing brush 40 minutes ago; snake not seen clearly. Two puncture marks.",
        "No allergies, no anticoagulants.",
        "Pressure immobilisation bandage applied by a neighbour. Vitals normal, no bleeding gums, 20-minute whole blood clotting test pending.",
        AgeBand::YoungAdult,
        Sex::Male,
        Setting::Emergency,
        "How long should we observe before deciding there is no envenomation, with antivenom 2 hours away?",
        &["toxicology", "envenomation"],
    ),
    (
        "Postpartum haemorrhage after home birth",
        "Estimated blood loss 900 mL in the first hour after an unplanned home birth; uterus boggy.",
        "Third pregnancy, previous births uncomplicated. No antenatal care this time.",
        "HR 124, BP 92/58. Oxytocin 10 IU IM given by the midwife. Fundal massage ongoing.",
        AgeBand::Adult,
        Sex::Female,
        Setting::HomeVisit,
        "What second-line options make sense in a clinic without blood products?",
        &["obstetrics", "haemorrhage"],
    ),
    (
        "Worsening leg ulcer in a patient with diabetes",
        "Ulcer over the lateral malleolus enlarging over 3 weeks despite dressings, now malodorous.",
        "Type 2 diabetes for 15 years, HbA1c 9.8 %, peripheral neuropathy.",
        "Ulcer 4 × 3 cm, sloughy base, surrounding cellulitis 3 cm, dorsalis pedis pulse weak. Probe-to-bone test negative.",
        AgeBand::Older,
        Sex::Female,
        Setting::Outreach,
        "Oral antibiotic choice and when to push for a vascular review that means a two-day trip?",
        &["diabetes", "wound-care"],
    ),
    (
        "Child with wheeze not responding to salbutamol",
        "Increasing work of breathing over 6 hours despite 3 rounds of salbutamol via spacer.",
        "Known asthma, two admissions last winter, on inhaled steroid preventer.",
        "RR 44, SpO2 89 % on air, speaking in words, widespread wheeze.",
        AgeBand::Child,
        Sex::Male,
        Setting::Clinic,
        "Magnesium IV in a clinic with no infusion pump: is it worth it before the flight arrives?",
        &["asthma", "paediatrics"],
    ),
    (
        "Confusion and falls in an older man living alone",
        "Neighbour reports two falls this week and new confusion; found on the kitchen floor.",
        "Atrial fibrillation on warfarin, heart failure. Lives alone on a remote property.",
        "GCS 14, small occipital haematoma, INR 3.8 on point-of-care meter. No focal signs.",
        AgeBand::Elderly,
        Sex::Male,
        Setting::HomeVisit,
        "Anticoagulated head injury with mild confusion: transfer for CT, or observe locally?",
        &["head-injury", "anticoagulation", "geriatrics"],
    ),
    (
        "Adolescent with abdominal pain and vomiting",
        "Periumbilical pain moving to the right iliac fossa over 18 hours, vomiting twice.",
        "No previous surgery. Last period 2 weeks ago.",
        "Temp 37.9 °C, tender RIF with guarding, negative urine pregnancy test, urine dip clear.",
        AgeBand::Adolescent,
        Sex::Female,
        Setting::Clinic,
        "Is an Alvarado score of 7 enough to justify the surgical transfer tonight?",
        &["abdominal-pain", "surgery"],
    ),
    (
        "Burns from a cooking fire",
        "Scald and flame burns to the forearm and hand while cooking over an open fire.",
        "Well otherwise, tetanus status unknown.",
        "Partial thickness burns about 4 % TBSA including the palm, circumferential at the wrist.",
        AgeBand::Child,
        Sex::Female,
        Setting::Emergency,
        "Which hand burns need a burns unit, and how do we dress them for a long transfer?",
        &["burns", "paediatrics", "transfer"],
    ),
    (
        "Hypoglycaemia on a new sulfonylurea",
        "Found drowsy and sweaty by family; glucose 2.1 mmol/L. Started gliclazide 2 weeks ago.",
        "Type 2 diabetes, chronic kidney disease stage 3.",
        "Responded to oral glucose, alert now, glucose 6.4 mmol/L after 30 minutes.",
        AgeBand::Older,
        Sex::Female,
        Setting::HomeVisit,
        "How long must she be observed, given the sulfonylurea and her kidneys, when she lives 2 hours away?",
        &["diabetes", "hypoglycaemia"],
    ),
    (
        "Laceration with suspected tendon injury",
        "Cut across the palm from a machete while working in the field.",
        "Right-handed labourer, no other injuries.",
        "3 cm laceration over the middle finger's flexor zone II; cannot flex the DIP joint against resistance.",
        AgeBand::Adult,
        Sex::Male,
        Setting::Clinic,
        "Close the skin and refer, or leave it open? How urgent is the hand surgery review?",
        &["trauma", "hand"],
    ),
    (
        "Suspected TB in a returning seasonal worker",
        "Cough for 6 weeks, night sweats and weight loss.",
        "Returned from seasonal work in crowded housing. HIV status unknown.",
        "Thin, crackles at the right apex, SpO2 95 %. No sputum microscopy available on site.",
        AgeBand::Adult,
        Sex::Male,
        Setting::Outreach,
        "What to do about infection control at home while sputum samples travel to the lab?",
        &["tuberculosis", "infectious-disease"],
    ),
];

pub(super) type Question = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// (title, body, tags, answers)
pub(super) const QUESTIONS: &[Question] = &[
    (
        "Storing oxytocin without a reliable fridge",
        "Our clinic loses power most afternoons. How are others keeping oxytocin effective? Is carbetocin worth the cost?",
        &["obstetrics", "cold-chain"],
        &[
            "We switched to heat-stable carbetocin for PPH prophylaxis. More expensive per dose but we were discarding a lot of oxytocin.",
            "A solar fridge with a temperature logger solved it for us; the district health office paid for it after we showed the wastage figures.",
        ],
    ),
    (
        "Point-of-care troponin: worth it for a small clinic?",
        "We see about 3 chest pains a week. Has anyone got data on whether a POC troponin changed transfer decisions?",
        &["chest-pain", "point-of-care"],
        &[
            "It cut our transfers by about a third, but only with a 0/2-hour protocol. A single value alone is not enough.",
            "Check that your analyser is high-sensitivity; the older ones miss early presentations.",
        ],
    ),
    (
        "Dosing amoxicillin for children by weight band",
        "Has anyone got a laminated weight-band chart for amoxicillin that matches the current national guideline?",
        &["paediatrics", "antibiotics"],
        &[
            "We use the WHO weight bands; I can share our chart in the protocols library.",
            "Remember to double the dose for suspected pneumonia under the new guideline.",
        ],
    ),
    (
        "Safe transfer of a patient on a magnesium infusion",
        "For pre-eclampsia we start magnesium, but the road trip is 3 hours. What monitoring do you send with them?",
        &["obstetrics", "transfer"],
        &[
            "Reflexes and respiratory rate every 15 minutes, calcium gluconate drawn up in the ambulance, and a urine bag.",
        ],
    ),
    (
        "Rabies post-exposure prophylaxis when vaccine is out of stock",
        "A dog bite today, vaccine stock-out until next week. What do people do?",
        &["rabies", "infectious-disease"],
        &[
            "Start as soon as you can: a short delay is acceptable but wash the wound thoroughly now and document.",
            "The district pharmacy keeps an emergency reserve; call the on-call pharmacist.",
        ],
    ),
    (
        "Ultrasound training for remote nurses",
        "Is there a short course for focused ultrasound (FAST, early pregnancy) that remote nurses can do online?",
        &["ultrasound", "education"],
        &[
            "The regional college runs a blended course: online modules plus a two-day hands-on weekend.",
        ],
    ),
    (
        "How do you document phone advice from the district hospital?",
        "When the on-call doctor gives advice by phone, how do you record it so it is defensible later?",
        &["documentation", "telehealth"],
        &[
            "We write the name, time and advice verbatim in the notes and read it back on the call.",
            "Some of us record a short summary and send it by SMS to the consultant to confirm.",
        ],
    ),
    (
        "Thresholds for calling the retrieval service",
        "What early warning score do you use to decide when to call retrieval, especially for children?",
        &["retrieval", "early-warning"],
        &[
            "We use PEWS for children and NEWS2 for adults; a score of 7 triggers a call to the retrieval coordinator.",
            "Do not wait for the score if your gut says the child is sick: call early, you can always stand them down.",
        ],
    ),
    (
        "Managing scabies outbreaks in a boarding school",
        "Twenty children with itchy rashes at the local boarding school. Mass treatment or treat cases only?",
        &["dermatology", "public-health"],
        &[
            "Mass drug administration with ivermectin for everyone over 15 kg, permethrin for the smaller ones, and wash all bedding on the same day.",
        ],
    ),
    (
        "Self-care when you are the only clinician for 200 km",
        "How do others cope with being on call every night? Any tips for staying safe and sane?",
        &["wellbeing"],
        &[
            "A weekly video call with two other remote GPs has kept me going. We talk about cases and about ourselves.",
            "Negotiate one protected weekend a month with the district; locums are easier to find when booked early.",
        ],
    ),
];

pub(super) type Protocol = (
    &'static str,
    &'static str,
    ProtocolStatus,
    &'static [&'static str],
    &'static [&'static str],
);

pub(super) const PROTOCOLS: &[Protocol] = &[
    (
        "Sepsis in children: first hour in a remote clinic",
        "# Sepsis in children: first hour\n\n## Recognise\n- Fever or hypothermia **and** any of: altered behaviour, CRT > 3 s, RR or HR above the age threshold, non-blanching rash.\n\n## Act in the first hour\n1. High-flow oxygen if SpO2 < 94 %.\n2. IV or IO access; blood glucose.\n3. Ceftriaxone 80 mg/kg (max 2 g) IV/IM/IO.\n4. Fluid bolus 10 mL/kg 0.9 % saline; reassess after each bolus.\n5. Call retrieval early.\n\n## While waiting\n- Observations every 15 minutes on a PEWS chart.\n- Keep the child warm; involve the parents.\n",
        ProtocolStatus::Endorsed,
        &["sepsis", "paediatrics"],
        &["WHO Pocket Book of Hospital Care for Children, 2nd ed."],
    ),
    (
        "Snakebite: pressure immobilisation and observation",
        "# Snakebite\n\n1. Keep the patient still. Apply a broad pressure bandage over the bite then the whole limb; splint.\n2. Do not wash the bite (venom detection), cut, suck or apply a tourniquet.\n3. Observe for at least 12 hours: 20-minute whole blood clotting test on arrival and every 3 hours.\n4. Antivenom for any sign of envenomation; have adrenaline ready.\n",
        ProtocolStatus::Endorsed,
        &["toxicology", "envenomation"],
        &["WHO Guidelines for the management of snakebites, 2nd ed."],
    ),
    (
        "Postpartum haemorrhage without blood products",
        "# PPH in a clinic without blood\n\n- Call for help, rub up the fundus, empty the bladder.\n- Oxytocin 10 IU IM/IV; then misoprostol 800 µg sublingual.\n- Tranexamic acid 1 g IV within 3 hours of birth.\n- Bimanual compression; non-pneumatic anti-shock garment if available.\n- Early transfer with a companion who can donate blood.\n",
        ProtocolStatus::Draft,
        &["obstetrics", "haemorrhage"],
        &["WHO recommendation on tranexamic acid for PPH, 2017"],
    ),
    (
        "Head injury in anticoagulated patients",
        "# Anticoagulated head injury\n\nAny head injury in a patient on warfarin or a DOAC: CT within 8 hours, even with GCS 15.\n\n- Check INR on point-of-care meter.\n- Reverse if INR > 1.5 and any intracranial signs, in discussion with the district team.\n- Document neurological observations every 30 minutes until transfer.\n",
        ProtocolStatus::Endorsed,
        &["head-injury", "anticoagulation"],
        &["NICE NG232 Head injury, 2023"],
    ),
    (
        "Diabetic foot ulcer: assessment and referral",
        "# Diabetic foot ulcer\n\n## Assess\n- Size, depth, probe-to-bone, signs of infection (IWGDF grade), pulses.\n\n## Treat\n- Offload; debride slough; moist dressings.\n- Mild infection: oral antibiotics 1–2 weeks. Moderate/severe: IV and transfer.\n\n## Refer\n- Absent pulses or ABPI < 0.9: vascular review.\n",
        ProtocolStatus::Draft,
        &["diabetes", "wound-care"],
        &["IWGDF Guidelines 2023"],
    ),
    (
        "Acute asthma in children",
        "# Acute asthma (children)\n\n1. Salbutamol via spacer: 6 puffs (under 6 years) or 12 puffs, every 20 minutes for the first hour.\n2. Ipratropium with the first three doses if severe.\n3. Prednisolone 1–2 mg/kg (max 40 mg).\n4. Life-threatening: oxygen, IV magnesium 40 mg/kg over 20 minutes, call retrieval.\n",
        ProtocolStatus::Endorsed,
        &["asthma", "paediatrics"],
        &["National Asthma Handbook"],
    ),
    (
        "Burns first aid and transfer",
        "# Burns\n\n- Cool running water for 20 minutes within 3 hours of the burn.\n- Estimate TBSA with the Lund and Browder chart.\n- Refer to a burns unit: > 10 % TBSA (children > 5 %), face, hands, feet, perineum, circumferential.\n- Cover with cling film for transfer; keep the patient warm.\n",
        ProtocolStatus::Superseded,
        &["burns", "transfer"],
        &["ANZBA Emergency Management of Severe Burns"],
    ),
    (
        "Hypoglycaemia on sulfonylureas",
        "# Sulfonylurea hypoglycaemia\n\nSulfonylurea hypoglycaemia recurs. Observe for at least 24 hours when the patient is elderly, has kidney disease or took a long-acting agent.\n\n- Treat with oral glucose if alert, IV 10 % dextrose if not.\n- Follow with a complex carbohydrate meal.\n- Review the prescription before discharge.\n",
        ProtocolStatus::Draft,
        &["diabetes", "hypoglycaemia"],
        &["JBDS The hospital management of hypoglycaemia, 2023"],
    ),
];

pub(super) const REPLIES: &[&str] = &[
    "Give the first dose of antibiotics now; every hour of delay matters more than the transfer logistics.",
    "We have seen the same thing twice this year. Repeat the observations every 15 minutes and call retrieval early.",
    "Agree with the plan. Document your reasoning and the time of each phone call.",
    "In our district the surgical team prefers a phone call before transfer so they can book theatre.",
    "I would observe for at least 12 hours before discharge, given the distance home.",
];

pub(super) const OUTCOMES: &[&str] = &[
    "Transferred after the first antibiotic dose; recovered fully and was home after 5 days.",
    "Serial ECGs and a repeat at 3 hours were unchanged; the district team confirmed NSTEMI on troponin. Doing well.",
    "No envenomation after 12 hours of observation; discharged with safety-netting advice.",
];
