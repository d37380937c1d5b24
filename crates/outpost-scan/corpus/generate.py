#!/usr/bin/env python3
"""Generates the labelled corpus the identifier scanner is measured on.

Every snippet is synthetic: names, dates and numbers are drawn at random
(fixed seed) from the lists below, after the hand-written snippets of\nhandwritten.txt (written apart from the templates, as a check on them), and the checksummed numbers are computed,
so no real patient is in it. Each line of `snippets.jsonl` is

    {"lang": "en"|"es", "text": ..., "spans": [{"start", "end", "category"}]}

with byte offsets into the UTF-8 text. Negative snippets are full of
look-alikes (doses, lab values, blood pressures, ICD codes, scores, years,
eponyms) and have no spans.

    python3 crates/outpost-scan/corpus/generate.py > crates/outpost-scan/corpus/snippets.jsonl
"""

import json
import random

R = random.Random(20261126)

GIVEN_EN = ["John", "Margaret", "Peter", "Susan", "Kwame", "Fatima", "Oliver", "Eileen",
            "Gareth", "Niamh", "Tariq", "Helen", "Ruth", "George", "Amelia", "Callum",
            "Priya", "Doreen", "Wei", "Siobhan", "Tobias", "Maeve"]
GIVEN_ES = ["Juan", "Carmen", "José", "Lucía", "Antonio", "Rocío", "Javier", "Pilar",
            "Ramón", "Begoña", "Álvaro", "Inés", "Joaquín", "Marta", "Ximena", "Agustín",
            "Guadalupe", "Iñaki", "Nerea"]
SURNAME_EN = ["Smith", "Okafor", "Hughes", "McAllister", "O'Brien", "Pritchard", "Nguyen",
              "Kowalski", "Fairbairn", "Ashworth", "Mensah", "Thistlewood", "Baptiste",
              "Llewellyn", "Haddad", "Ferreira", "Dunmore", "Achterberg", "Patel", "Quigley"]
SURNAME_ES = ["Fernández", "García", "López-Ruiz", "Martínez", "Sánchez", "Iglesias",
              "Etxeberria", "Quintana", "Villalobos", "Castaño", "Benítez", "Zubiri",
              "Ordóñez", "Paredes", "Almagro", "Cienfuegos", "Rebollo", "Urquiza"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
MON_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre"]
STREETS_EN = ["Mill", "Station", "Church", "Victoria", "Oakfield", "Kingsway", "Brook",
              "Elm Tree", "Harbour View", "Chapel"]
STREET_TYPES = ["Street", "Road", "Lane", "Avenue", "Close", "Drive", "Crescent", "Terrace", "Way"]
STREETS_ES = ["Calle Mayor", "Calle San Bernardo", "Avenida de la Constitución",
              "C/ Real", "Calle del Carmen", "Plaza de España", "Paseo del Prado",
              "Calle Nueva", "Avda. Andalucía", "Camino de Ronda"]
TOWNS_ES = ["Madrid", "Soria", "Teruel", "Cáceres", "Lugo", "Zamora", "Huesca", "Cuenca"]
UK_POSTCODES = ["SW1A 1AA", "M1 1AE", "LS6 2QZ", "EH8 9YL", "CF10 3AT", "NE4 6BE",
                "PL4 8AA", "IV2 3PZ", "TR1 2JT", "LD3 7AB"]
US_STATES = ["TX", "CA", "NM", "MT", "OR", "KY", "VT", "ND"]
AU_STATES = ["NSW", "VIC", "QLD", "TAS", "SA"]
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def d(n):
    return "".join(str(R.randint(0, 9)) for _ in range(n))


def nhs():
    while True:
        ds = [R.randint(0, 9) for _ in range(9)]
        s = sum(x * w for x, w in zip(ds, range(10, 1, -1)))
        c = 11 - s % 11
        c = 0 if c == 11 else c
        if c != 10:
            n = "".join(map(str, ds)) + str(c)
            return R.choice([f"{n[:3]} {n[3:6]} {n[6:]}", f"{n[:3]}-{n[3:6]}-{n[6:]}", n])


def medicare():
    ds = [R.randint(2, 6)] + [R.randint(0, 9) for _ in range(7)]
    c = sum(x * w for x, w in zip(ds, [1, 3, 7, 9, 1, 3, 7, 9])) % 10
    n = "".join(map(str, ds)) + str(c) + str(R.randint(1, 9)) + str(R.randint(1, 5))
    return R.choice([f"{n[:4]} {n[4:9]} {n[9]}", f"{n[:4]} {n[4:9]} {n[9]}-{n[10]}", n[:10]])


def ssn():
    while True:
        a = R.randint(1, 899)
        if a != 666:
            return f"{a:03d}-{R.randint(1, 99):02d}-{R.randint(1, 9999):04d}"


def dni():
    n = R.randint(0, 99999999)
    return f"{n:08d}{DNI_LETTERS[n % 23]}"


def nie():
    p = R.randint(0, 2)
    n = R.randint(0, 9999999)
    return f"{'XYZ'[p]}{n:07d}{DNI_LETTERS[(p * 10_000_000 + n) % 23]}"


def date_en():
    day, m, y = R.randint(1, 28), R.randint(1, 12), R.randint(1925, 2026)
    return R.choice([
        f"{day:02d}/{m:02d}/{y}", f"{day}/{m}/{y}", f"{day:02d}.{m:02d}.{y}",
        f"{y}-{m:02d}-{day:02d}", f"{day} {MONTHS_EN[m-1]} {y}",
        f"{MONTHS_EN[m-1]} {day}, {y}", f"{day}th of {MONTHS_EN[m-1]} {y}" if day > 3 and day < 21 else f"{day} {MONTHS_EN[m-1]} {y}",
        f"{day:02d}-{MON_EN[m-1]}-{y}", f"{day} {MON_EN[m-1]} {y}", f"{day:02d}/{m:02d}/{y % 100:02d}",
        f"{day} {MONTHS_EN[m-1]}",
    ])


def date_es():
    day, m, y = R.randint(1, 28), R.randint(1, 12), R.randint(1925, 2026)
    return R.choice([
        f"{day} de {MONTHS_ES[m-1]} de {y}", f"{day} {MONTHS_ES[m-1]} {y}",
        f"{day:02d}/{m:02d}/{y}", f"{day}-{m}-{y}", f"{day} de {MONTHS_ES[m-1]}",
        f"{day:02d}.{m:02d}.{y}", f"{y}-{m:02d}-{day:02d}",
    ])


def phone_en():
    return R.choice([
        f"07700 900{d(3)}", f"01632 960{d(3)}", f"+44 7700 900{d(3)}", f"020 7946 0{d(3)}",
        f"(555) {R.randint(200, 999)}-{d(4)}", f"555-{R.randint(200, 999)}-{d(4)}",
        f"04{d(2)} {d(3)} {d(3)}", f"(02) 9{d(3)} {d(4)}", f"+61 4{d(2)} {d(3)} {d(3)}",
    ])


def phone_es():
    return R.choice([
        f"6{d(2)} {d(3)} {d(3)}", f"+34 6{d(2)} {d(2)} {d(2)} {d(2)}", f"91 {d(3)} {d(2)} {d(2)}",
        f"7{d(2)} {d(2)} {d(2)} {d(2)}", f"9{d(2)} {d(3)} {d(3)}", f"6{d(8)}",
    ])


def email(first, last):
    clean = lambda s: (s.lower().replace("'", "").replace("á", "a").replace("é", "e")
                       .replace("í", "i").replace("ó", "o").replace("ú", "u").replace("ñ", "n"))
    return R.choice([f"{clean(first)}.{clean(last)}@example.com",
                     f"{clean(first)[0]}{clean(last)}{R.randint(1, 99)}@correo.es",
                     f"{clean(last)}_{clean(first)}@mail.example.org"])


def mrn():
    return R.choice([f"{d(8)}", f"H{d(7)}", f"RX{d(6)}", f"{d(3)}-{d(4)}", f"M{d(6)}"])


class S:
    """A snippet under construction: text plus labelled spans."""

    def __init__(self, lang):
        self.lang = lang
        self.parts = []  # (text, category|None)

    def t(self, s):
        self.parts.append((s, None))
        return self

    def x(self, s, cat):
        self.parts.append((s, cat))
        return self

    def done(self):
        text, spans, at = "", [], 0
        for s, cat in self.parts:
            b = len(s.encode())
            if cat:
                spans.append({"start": at, "end": at + b, "category": cat})
            text += s
            at += b
        return {"lang": self.lang, "text": text, "spans": spans}


LOOKALIKE_EN = [
    "Started amoxicillin 500 mg three times daily for 7 days.",
    "BP 142/88, HR 96, SpO2 94% on air, temp 38.4.",
    "HbA1c 58 mmol/mol, eGFR 45, K+ 5.2, Na 131.",
    "Coded as ICD-10 I21.4 and E11.9.",
    "GCS 14/15 on arrival; NEWS2 score 5.",
    "CURB-65 score of 2, so we admitted.",
    "Wells score 4, D-dimer 1200 ng/mL.",
    "Diagnosed with Parkinson's disease in 2019.",
    "Glasgow Coma Scale was 15 throughout.",
    "Positive Murphy's sign and a raised CRP of 145.",
    "Known Crohn's disease since 2008, on azathioprine 150 mg.",
    "Bell's palsy on the left; prednisolone 50 mg for 10 days.",
    "Charles Bonnet syndrome explained to the family.",
    "Ottawa ankle rules negative, no X-ray needed.",
    "Centor score 3; phenoxymethylpenicillin 500 mg QDS.",
    "Barthel index 85 before admission.",
    "Platelets 150,000 and WBC 11.2 x10^9/L.",
    "Troponin 45 ng/L at 0 h and 52 ng/L at 3 h.",
    "INR 2.5 on warfarin 5 mg; target range 2-3.",
    "Hb 98 g/L, MCV 72 fL, ferritin 8.",
    "Vitamin B12 deficiency; hydroxocobalamin 1 mg IM.",
    "CD4 count 350, viral load undetectable.",
    "Type 2 diabetes since 2015, on metformin 1 g BD.",
    "Seen in 2021 and again in 2023 for the same complaint.",
    "A 45-year-old man with chest pain for 2 hours.",
    "An 85-year-old woman with a fall at home.",
    "Dose reduction is advised in patients aged 90 and over.",
    "Vaccinate everyone over 90 years as a priority.",
    "Paracetamol 1 g every 6 hours, maximum 4 g in 24 hours.",
    "The patient presented with a 3 day history of cough.",
    "Patient education leaflet given about inhaler technique.",
    "Follow the NICE NG136 guideline for hypertension.",
    "SNOMED 22298006 is myocardial infarction.",
    "Co-codamol 30/500, two tablets four times a day.",
    "Review in 2/52 with repeat bloods.",
    "Apgar 9 at 5 minutes; birth weight 3.4 kg.",
    "NYHA class III, ejection fraction 35%.",
    "Epley manoeuvre performed with good effect.",
    "Heparin 5000 units subcutaneously twice daily.",
    "Addison's disease suspected; 9am cortisol 80 nmol/L.",
    "COVID-19 PCR negative; influenza A positive.",
    "Down syndrome with a new murmur.",
    "Ferritin 1200, transferrin saturation 60%.",
    "MMSE 24/30, down from 27/30 last year.",
    "Cholesterol 6.2 mmol/L, LDL 4.1, QRISK3 18%.",
    "Given 1:1000 adrenaline 0.5 mL IM.",
    "Weight 72.5 kg, height 168 cm, BMI 25.7.",
    "Gentamicin 7 mg/kg once daily, levels at 6-14 hours.",
    "Hodgkin lymphoma treated in 1998, in remission.",
    "Alzheimer's dementia, on donepezil 10 mg nocte.",
    "Seen at 14:30 in bay 3, bed 12, then moved to ward 7.",
    "Call 999 if the pain returns; 111 for advice out of hours.",
    "Protocol version 2.3.1, last reviewed in 2024.",
    "Fluids: 1000 ml over 8 hours, then 0.5 mg/kg of furosemide.",
    "HLA-B27 positive; BRCA2 testing offered.",
    "MRI: L4/L5 disc prolapse, T2 weighted changes at C5-C6.",
    "Staged T2N0M0; ASA grade 2; Mallampati 3.",
    "Grade 3/6 ejection systolic murmur, QTc 480 ms.",
    "pH 7.31, pCO2 6.8 kPa, HCO3 18, lactate 2.4.",
    "FEV1/FVC 0.65, FEV1 62% predicted.",
    "Hep B course at 0, 1 and 6 months.",
    "Amlodipine 5 mg, ramipril 10 mg, atorvastatin 80 mg.",
    "Telephone triage at 08:15; video consultation at 10:40.",
    "The Dr's letter from the district hospital arrived.",
    "Ferrous sulfate 200 mg; recheck Hb in 4 weeks (target 120-150).",
    "Naloxone 400 micrograms IV, repeated after 2-3 minutes.",
    "Morning BP readings 158/94, 152/90 and 149/92.",
    "Population 12500 served by two GPs and a nurse.",
    "Audit of 1250 consultations between 2019 and 2022.",
    "Tetanus booster given; next due in 10 years.",
    "Mrs and Mr are used on the appointment letters.",
    "Patient Safety Incident reported on the system.",
    "Kernig sign negative, Brudzinski sign negative.",
    "Wernicke encephalopathy considered; thiamine 500 mg TDS IV.",
]

LOOKALIKE_ES = [
    "Inicia amoxicilina 500 mg cada 8 horas durante 7 días.",
    "TA 140/90 mmHg, FC 88 lpm, SatO2 96%, Tª 38,2 ºC.",
    "Hb 10,5 g/dl, creatinina 1,3 mg/dl, potasio 5,1.",
    "Codificado como CIE-10 J18.9.",
    "Escala de Glasgow 15 a la llegada.",
    "Diagnosticado de enfermedad de Parkinson en 2017.",
    "Síndrome de Down con cardiopatía corregida.",
    "Signo de Murphy positivo y PCR de 120.",
    "Paciente de 78 años con disnea de esfuerzo.",
    "Paciente varón de 67 años, exfumador.",
    "Mujer de 85 años con caída casual en domicilio.",
    "Se recomienda vacunar a los mayores de 90 años.",
    "Diabetes tipo 2 desde 2012, en tratamiento con metformina 850 mg.",
    "Escala de Barthel 60 y Pfeiffer 3 errores.",
    "Plaquetas 250.000 y leucocitos 11.400.",
    "Paracetamol 1 g cada 8 horas si dolor.",
    "Dímero D 850 ng/ml; escala de Wells 2.",
    "Valorado en 2020 y de nuevo en 2022.",
    "Enfermedad de Crohn en tratamiento con adalimumab 40 mg.",
    "Parálisis de Bell izquierda; prednisona 60 mg.",
    "HbA1c 7,8 %, LDL 130 mg/dl.",
    "INR 2,8 con acenocumarol 4 mg.",
    "Troponina 35 ng/l en la primera determinación.",
    "Criterios de Centor 3, se pauta penicilina.",
    "Índice de Barthel 90 antes del ingreso.",
    "Heparina 5000 UI subcutánea cada 12 horas.",
    "Se revisa según la guía de práctica clínica de 2021.",
    "Vitamina B12 baja; cianocobalamina 1 mg IM.",
    "Ferritina 15 ng/ml; hierro oral 80 mg al día.",
    "Peso 70 kg, talla 165 cm, IMC 25,7.",
    "Maniobra de Epley con buena respuesta.",
    "Clasificación NYHA II, FEVI 45%.",
    "Enfermedad de Alzheimer en fase moderada.",
    "Linfoma de Hodgkin tratado en 2005.",
    "Revisión en 2 semanas con analítica.",
    "Llame al 112 si empeora; cita en 3 semanas.",
    "Ingresado en la habitación 204, cama 2.",
    "Protocolo versión 3.1, revisado en 2023.",
    "Sueroterapia 1500 ml en 24 horas, furosemida 20 mg IV.",
    "RM: protrusión discal L4-L5, cambios en C5-C6.",
    "pH 7,32, pCO2 48, bicarbonato 19, lactato 2,1.",
    "Soplo sistólico 2/6, QTc 470 ms.",
    "Enalapril 20 mg, amlodipino 5 mg y atorvastatina 40 mg.",
    "Población de 3200 habitantes con un solo médico.",
    "Vacuna antitetánica; próxima dosis en 10 años.",
    "Signo de Kernig negativo y Brudzinski negativo.",
    "Auditoría de 1250 consultas entre 2019 y 2022.",
    "Glucemia 245 mg/dl, cetonemia 0,4 mmol/l.",
    "Tensiones en domicilio 150/95, 148/92 y 155/96.",
    "Clasificación de Forrest IIb, hemoglobina 9,8.",
]


def en_positive():
    s = S("en")
    g, sn = R.choice(GIVEN_EN), R.choice(SURNAME_EN)
    kind = R.randrange(22)
    look = R.choice(LOOKALIKE_EN) + " "
    if kind == 0:
        s.t("Seen today: ").t(R.choice(["Mrs ", "Mr ", "Ms ", "Miss "])).x(sn, "name").t(", " + look)
    elif kind == 1:
        s.t(look).t("Patient ").x(f"{g} {sn}", "name").t(" was reviewed by the nurse.")
    elif kind == 2:
        s.t("The patient's daughter ").x(g, "name").t(" called to say he is worse. " + look)
    elif kind == 3:
        s.t("DOB ").x(date_en(), "date").t(". " + look)
    elif kind == 4:
        s.t("Admitted on ").x(date_en(), "date").t(" with sepsis; " + look)
    elif kind == 5:
        age = R.randint(90, 104)
        s.t("A ").x(f"{age}-year-old", "age").t(" woman living alone. " + look)
    elif kind == 6:
        s.t("Frail, aged ").x(str(R.randint(90, 104)), "age").t(", lives with family. " + look)
    elif kind == 7:
        s.t("Contact the carer on ").x(phone_en(), "phone").t(" if concerned. " + look)
    elif kind == 8:
        s.t(look).t("Family can be reached at ").x(phone_en(), "phone").t(".")
    elif kind == 9:
        s.t("Her email is ").x(email(g, sn), "email").t(" for the letters. " + look)
    elif kind == 10:
        s.t("Photos of the rash are at ").x(f"https://photos.example.com/{sn.lower()}{d(3)}", "url").t(" . " + look)
    elif kind == 11:
        s.t("Lives at ").x(f"{R.randint(1, 240)} {R.choice(STREETS_EN)} {R.choice(STREET_TYPES)}", "address").t(", ").x(R.choice(UK_POSTCODES), "postcode").t(". " + look)
    elif kind == 12:
        s.t("Home: ").x(f"{R.randint(1, 999)} {R.choice(STREETS_EN)} {R.choice(STREET_TYPES)}", "address").t(", Amarillo " + R.choice(US_STATES) + " ").x(f"{d(5)}", "postcode").t(". " + look)
    elif kind == 13:
        s.t("NHS number ").x(nhs(), "nhs_number").t(". " + look)
    elif kind == 14:
        s.t(look).t("NHS no: ").x(nhs(), "nhs_number").t(", registered locally.")
    elif kind == 15:
        s.t("Medicare ").x(medicare(), "medicare_number").t(", bulk billed. " + look)
    elif kind == 16:
        s.t("SSN ").x(ssn(), "ssn").t(" on the insurance form. " + look)
    elif kind == 17:
        s.t(R.choice(["MRN ", "Hospital number ", "MRN: ", "Medical record number "])).x(mrn(), "record_number").t(". " + look)
    elif kind == 18:
        s.t("Pacemaker serial ").x(f"PM{d(7)}", "other_id").t(" checked in clinic. " + look)
    elif kind == 19:
        s.t("The clinic PC at ").x(f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}", "ip_address").t(" holds the scans. " + look)
    elif kind == 20:
        s.t("Moved to ").x(f"{R.randint(1, 80)} {R.choice(STREETS_EN)} {R.choice(STREET_TYPES)}", "address").t(", Dubbo ").t(R.choice(AU_STATES) + " ").x(f"{R.randint(2000, 7999)}", "postcode").t(". " + look)
    else:
        s.t("Dr ").x(sn, "name").t(" at the district hospital agreed. ").t(look)
    return s.done()


def es_positive():
    s = S("es")
    g, sn = R.choice(GIVEN_ES), R.choice(SURNAME_ES)
    kind = R.randrange(20)
    look = R.choice(LOOKALIKE_ES) + " "
    if kind == 0:
        s.t("Acude ").t(R.choice(["la Sra. ", "el Sr. ", "Doña ", "la Sra "])).x(sn, "name").t(" por tos. " + look)
    elif kind == 1:
        s.t(look).t("Paciente ").x(f"{g} {sn}", "name").t(" valorado en consulta.")
    elif kind == 2:
        s.t("Su hija ").x(g, "name").t(" refiere empeoramiento. " + look)
    elif kind == 3:
        s.t("Fecha de nacimiento: ").x(date_es(), "date").t(". " + look)
    elif kind == 4:
        s.t("Ingresa el ").x(date_es(), "date").t(" por neumonía. " + look)
    elif kind == 5:
        s.t("Mujer de ").x(f"{R.randint(90, 104)} años", "age").t(" que vive sola. " + look)
    elif kind == 6:
        s.t("Contactar con la familia en el ").x(phone_es(), "phone").t(". " + look)
    elif kind == 7:
        s.t(look).t("Teléfono de la cuidadora: ").x(phone_es(), "phone").t(".")
    elif kind == 8:
        s.t("Correo: ").x(email(g, sn), "email").t(". " + look)
    elif kind == 9:
        s.t("Domicilio en ").x(f"{R.choice(STREETS_ES)} {R.randint(1, 120)}", "address").t(", ").x(f"{R.randint(1, 52):02d}{d(3)}", "postcode").t(f" {R.choice(TOWNS_ES)}. " + look)
    elif kind == 10:
        s.t("DNI ").x(dni(), "dni_nie").t(". " + look)
    elif kind == 11:
        s.t(look).t("NIE ").x(nie(), "dni_nie").t(", residente desde hace años.")
    elif kind == 12:
        s.t(R.choice(["NHC ", "Historia clínica ", "Nº de historia "])).x(mrn(), "record_number").t(". " + look)
    elif kind == 13:
        s.t("Ver las imágenes en ").x(f"http://www.ejemplo.es/{sn.lower()[:4]}/{d(4)}", "url").t(" . " + look)
    elif kind == 14:
        s.t("Nacido el ").x(date_es(), "date").t(", " + look)
    elif kind == 15:
        s.t("Paciente de ").x(f"{R.randint(90, 104)} años", "age").t(", pluripatológico. " + look)
    elif kind == 16:
        s.t("Vive en ").x(f"{R.choice(STREETS_ES)} {R.randint(1, 99)}", "address").t(". " + look)
    elif kind == 17:
        s.t("Derivado por el Dr. ").x(sn, "name").t(" de otro centro. " + look)
    elif kind == 18:
        s.t(look).t("Móvil ").x(phone_es(), "phone").t(" (hijo).")
    else:
        s.t("Se llama ").x(f"{g} {sn}", "name").t(" y trabaja en el campo. " + look)
    return s.done()


def mixed_en():
    # Several identifiers in one note, as a careless case write-up has.
    s = S("en")
    g, sn = R.choice(GIVEN_EN), R.choice(SURNAME_EN)
    s.t("Mrs ").x(sn, "name").t(", DOB ").x(date_en(), "date").t(", NHS ").x(nhs(), "nhs_number")
    s.t(", phone ").x(phone_en(), "phone").t(". " + R.choice(LOOKALIKE_EN))
    return s.done()


def mixed_es():
    s = S("es")
    g, sn = R.choice(GIVEN_ES), R.choice(SURNAME_ES)
    s.t("Sra. ").x(sn, "name").t(", DNI ").x(dni(), "dni_nie").t(", nacida el ").x(date_es(), "date")
    s.t(", tfno. ").x(phone_es(), "phone").t(". " + R.choice(LOOKALIKE_ES))
    return s.done()


def negative(lang):
    pool = LOOKALIKE_EN if lang == "en" else LOOKALIKE_ES
    return S(lang).t(" ".join(R.sample(pool, R.randint(2, 4)))).done()


def handwritten():
    """The hand-written snippets in handwritten.txt, markers turned into spans."""
    import os
    import re
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handwritten.txt")
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        lang, text = line.split("|", 1)
        s = S(lang)
        at = 0
        for m in re.finditer(r"\[\[([a-z_]+):(.+?)\]\]", text):
            s.t(text[at:m.start()]).x(m.group(2), m.group(1))
            at = m.end()
        s.t(text[at:])
        out.append(s.done())
    return out


def main():
    out = handwritten()
    out += [en_positive() for _ in range(110)]
    out += [es_positive() for _ in range(100)]
    out += [mixed_en() for _ in range(20)]
    out += [mixed_es() for _ in range(20)]
    out += [negative("en") for _ in range(60)]
    out += [negative("es") for _ in range(50)]
    for snippet in out:
        print(json.dumps(snippet, ensure_ascii=False))


if __name__ == "__main__":
    main()
