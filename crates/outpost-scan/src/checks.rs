//! Check-digit validators for national identifiers. Each takes the digits
//! (and letters) only, separators already removed.

/// NHS number (England, Wales, Isle of Man): ten digits, the last a
/// modulus-11 check over the first nine with weights 10..2. A remainder
/// giving 10 means the number was never issued.
pub fn nhs_number(digits: &str) -> bool {
    let d: Vec<u32> = match all_digits(digits, 10) {
        Some(d) => d,
        None => return false,
    };
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(x, w)| x * w).sum();
    let check = 11 - (sum % 11);
    let check = if check == 11 { 0 } else { check };
    check != 10 && check == d[9]
}

/// Australian Medicare card number: ten digits (an eleventh, the issue
/// number, may follow). The first digit is 2–6; the ninth is
/// (d1·1 + d2·3 + d3·7 + d4·9 + d5·1 + d6·3 + d7·7 + d8·9) mod 10.
pub fn medicare_number(digits: &str) -> bool {
    let d: Vec<u32> = match all_digits(digits, 10).or_else(|| all_digits(digits, 11)) {
        Some(d) => d,
        None => return false,
    };
    if !(2..=6).contains(&d[0]) {
        return false;
    }
    const W: [u32; 8] = [1, 3, 7, 9, 1, 3, 7, 9];
    let sum: u32 = d[..8].iter().zip(W).map(|(x, w)| x * w).sum();
    sum % 10 == d[8]
}

/// US Social Security number: area 001–899 except 666, group 01–99,
/// serial 0001–9999 (the SSA never issues the others).
pub fn ssn(digits: &str) -> bool {
    let Some(d) = all_digits(digits, 9) else {
        return false;
    };
    let area = d[0] * 100 + d[1] * 10 + d[2];
    let group = d[3] * 10 + d[4];
    let serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish DNI (eight digits and a letter) or NIE (X, Y or Z, seven digits
/// and a letter): the letter is the number mod 23 looked up in
/// `TRWAGMYFPDXBNJZSQVHLCKE`, with X, Y, Z counting as 0, 1, 2.
pub fn dni_nie(id: &str) -> bool {
    let id = id.to_ascii_uppercase();
    let bytes = id.as_bytes();
    if bytes.len() != 9 {
        return false;
    }
    let prefix = match bytes[0] {
        b'X' => Some(0),
        b'Y' => Some(1),
        b'Z' => Some(2),
        b'0'..=b'9' => None,
        _ => return false,
    };
    let digits = &id[if prefix.is_some() { 1 } else { 0 }..8];
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(n) = digits.parse::<u64>() else {
        return false;
    };
    let n = match prefix {
        Some(p) => p * 10_000_000 + n,
        None => n,
    };
    DNI_LETTERS[(n % 23) as usize] == bytes[8]
}

fn all_digits(s: &str, len: usize) -> Option<Vec<u32>> {
    if s.len() != len {
        return None;
    }
    s.chars().map(|c| c.to_digit(10)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers() {
        // Published examples of valid numbers.
        for ok in ["9434765919", "9434765870", "4010232137", "4505577104"] {
            assert!(nhs_number(ok), "{ok} should be valid");
        }
        // One digit changed, a transposition, wrong length, letters, and a
        // number whose check digit would be 10.
        for bad in [
            "9434765918",
            "9434765991",
            "943476591",
            "94347659190",
            "94347659AB",
            "0000000060",
        ] {
            assert!(!nhs_number(bad), "{bad} should be invalid");
        }
    }

    #[test]
    fn medicare_numbers() {
        for ok in ["2123456701", "21234567011", "3950386041", "5555555501"] {
            assert!(medicare_number(ok), "{ok} should be valid");
        }
        for bad in [
            "2123456711",
            "1123456701",
            "7123456701",
            "212345670",
            "21234x6701",
        ] {
            assert!(!medicare_number(bad), "{bad} should be invalid");
        }
    }

    #[test]
    fn ssns() {
        assert!(ssn("123456789"));
        assert!(ssn("078051121"));
        for bad in [
            "000123456",
            "666123456",
            "900123456",
            "123006789",
            "123450000",
            "12345678",
        ] {
            assert!(!ssn(bad), "{bad} should be invalid");
        }
    }

    #[test]
    fn dnis_and_nies() {
        for ok in [
            "12345678Z",
            "00000000T",
            "X1234567L",
            "Y1234567X",
            "Z1234567R",
            "x1234567l",
        ] {
            assert!(dni_nie(ok), "{ok} should be valid");
        }
        for bad in [
            "12345678A",
            "X1234567A",
            "W1234567L",
            "1234567Z",
            "1234A678Z",
            "12345678",
        ] {
            assert!(!dni_nie(bad), "{bad} should be invalid");
        }
    }
}
