//! Validated domain types: parse once at the edge, carry the proof afterwards.

use std::fmt;

/// A field that broke a validation rule.
///
/// `message` is a sentence naming the rule, fit to show to the person who typed the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// The field, as named in requests (`login`, `password`, `email`, ...).
    pub field: &'static str,
    /// The rule that was broken, as a sentence.
    pub message: String,
}

impl ValidationError {
    /// A validation error for `field` with the sentence `message`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// A login: 2 to 64 characters, Latin letters and digits only.
///
/// Logins keep the case they were registered with; uniqueness and lookups ignore case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Login(String);

impl Login {
    /// Parses a login under the default [`LoginPolicy`] (letters and digits, 2 to 64).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::parse_with(raw, &LoginPolicy::default())
    }

    /// Parses a login under `policy`, naming the broken rule on failure.
    pub fn parse_with(raw: &str, policy: &LoginPolicy) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if !(policy.min_len..=policy.max_len).contains(&len) {
            return Err(ValidationError::new(
                "login",
                format!(
                    "login must be {} to {} characters long",
                    policy.min_len, policy.max_len
                ),
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || policy.extra_chars.contains(c))
        {
            return Err(ValidationError::new("login", policy.characters_rule()));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The login as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which logins may be registered: Latin letters and digits, plus any of `.`, `_`, `-`
/// and `@` the policy allows (so email-like logins can work), within a length range.
/// Uniqueness and lookups ignore case either way. `Default`: letters and digits, 2 to
/// 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginPolicy {
    /// Fewest characters.
    pub min_len: usize,
    /// Most characters.
    pub max_len: usize,
    /// Characters allowed besides letters and digits: a subset of
    /// [`LoginPolicy::ALLOWED_EXTRAS`].
    pub extra_chars: String,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            min_len: 2,
            max_len: 64,
            extra_chars: String::new(),
        }
    }
}

impl LoginPolicy {
    /// The characters a policy may allow besides letters and digits.
    pub const ALLOWED_EXTRAS: &'static str = "._-@";

    /// A policy allowing `extra_chars` besides letters and digits.
    ///
    /// Errors: a character outside [`LoginPolicy::ALLOWED_EXTRAS`], or `min_len` of 0
    /// or above `max_len`.
    pub fn new(min_len: usize, max_len: usize, extra_chars: &str) -> Result<Self, ValidationError> {
        if let Some(c) = extra_chars
            .chars()
            .find(|c| !Self::ALLOWED_EXTRAS.contains(*c))
        {
            return Err(ValidationError::new(
                "login_policy",
                format!("logins may allow only . _ - @ besides letters and digits, not {c:?}"),
            ));
        }
        if min_len == 0 || min_len > max_len {
            return Err(ValidationError::new(
                "login_policy",
                "login lengths must satisfy 1 <= min <= max",
            ));
        }
        let mut extra: Vec<char> = extra_chars.chars().collect();
        extra.sort_unstable();
        extra.dedup();
        Ok(Self {
            min_len,
            max_len,
            extra_chars: extra.into_iter().collect(),
        })
    }

    /// The policy as a regular expression, for schemas (the parser is the rule).
    pub fn pattern(&self) -> String {
        // `-` last in the class; the others need no escape inside one.
        let mut class = String::from("A-Za-z0-9");
        class.extend(self.extra_chars.chars().filter(|&c| c != '-'));
        if self.extra_chars.contains('-') {
            class.push('-');
        }
        format!("^[{class}]{{{},{}}}$", self.min_len, self.max_len)
    }

    fn characters_rule(&self) -> String {
        if self.extra_chars.is_empty() {
            "login may contain only Latin letters and digits".to_owned()
        } else {
            let extras: Vec<String> = self.extra_chars.chars().map(|c| format!("'{c}'")).collect();
            format!(
                "login may contain only Latin letters, digits and {}",
                extras.join(", ")
            )
        }
    }
}

/// A person's first or last name: 2 to 32 characters, Latin letters and `-`, not only `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct PersonName(String);

impl PersonName {
    /// Fewest characters of a name.
    pub const MIN_CHARS: usize = 2;
    /// Most characters of a name.
    pub const MAX_CHARS: usize = 32;
    /// The character rule as a regular expression, for schemas (lengths apart).
    pub const PATTERN: &'static str = "^[A-Za-z-]*[A-Za-z][A-Za-z-]*$";

    /// Parses a name for `field` (`first_name` or `last_name`).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&len) {
            return Err(ValidationError::new(
                field,
                format!(
                    "{field} must be {} to {} characters long",
                    Self::MIN_CHARS,
                    Self::MAX_CHARS
                ),
            ));
        }
        if !raw.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
            return Err(ValidationError::new(
                field,
                format!("{field} may contain only Latin letters and '-'"),
            ));
        }
        if raw.chars().all(|c| c == '-') {
            return Err(ValidationError::new(
                field,
                format!("{field} must contain at least one letter"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, lowercased.
///
/// The check is deliberately the practical subset of RFC 5321 that mail providers
/// accept: `local@domain.tld`, dot-atom local part of at most 64 characters, domain of
/// LDH labels with an alphabetic top-level label, 254 characters in all.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Email(String);

impl Email {
    /// Parses and lowercases an email address.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = || ValidationError::new("email", "email must be a valid email address");
        let lower = raw.trim().to_ascii_lowercase();
        if lower.is_empty() || lower.len() > 254 {
            return Err(invalid());
        }
        let (local, domain) = lower.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        if !local_ok {
            return Err(invalid());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if !domain_ok {
            return Err(invalid());
        }
        Ok(Self(lower))
    }

    /// The address, lowercased.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The special characters of the default password policy.
pub const DEFAULT_PASSWORD_SPECIALS: &str = "!@#$%^&*()_+-=/.,";

/// Rules a new password must follow. The default is the policy of the HTTP contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in characters.
    pub min_len: usize,
    /// Maximum length in characters (bounds hashing cost too).
    pub max_len: usize,
    /// At least one lowercase Latin letter.
    pub require_lowercase: bool,
    /// At least one uppercase Latin letter.
    pub require_uppercase: bool,
    /// At least one digit.
    pub require_digit: bool,
    /// At least one of these characters; empty means no such rule.
    pub specials: String,
}

impl PasswordPolicy {
    /// The policy as a regular expression with lookaheads (ECMA-262), for schemas:
    /// the length bounds and one lookahead per required character class.
    pub fn pattern(&self) -> String {
        let mut p = String::from("^");
        let mut require = |class: &str| p.push_str(&format!("(?=[\\s\\S]*[{class}])"));
        if self.require_lowercase {
            require("a-z");
        }
        if self.require_uppercase {
            require("A-Z");
        }
        if self.require_digit {
            require("0-9");
        }
        if !self.specials.is_empty() {
            // Inside a class `-` goes last, `\` and `]` are escaped, and so is `^`
            // where it would come first.
            let mut class = String::new();
            for c in self.specials.chars().filter(|&c| c != '-') {
                if matches!(c, '\\' | ']') || (c == '^' && class.is_empty()) {
                    class.push('\\');
                }
                class.push(c);
            }
            if self.specials.contains('-') {
                class.push('-');
            }
            require(&class);
        }
        p.push_str(&format!("[\\s\\S]{{{},{}}}$", self.min_len, self.max_len));
        p
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_len: 8,
            max_len: 128,
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
            specials: DEFAULT_PASSWORD_SPECIALS.to_owned(),
        }
    }
}

/// A password in clear text. Its `Debug` is redacted and it has no `Display`. It is
/// made only through [`Password::parse`] (the policy checked) or
/// [`Password::to_check`]: no `Deserialize`, which would skip the policy; deserialize
/// a `String` and parse it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl Password {
    /// Wraps a password without policy checks. For a password given to be checked
    /// against a hash, use [`Password::to_check`].
    pub fn unchecked(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// A password given to be checked against a stored hash (at login, as the current
    /// password): no rule applies (old passwords may predate the policy) but the
    /// maximum length, so an overlong input costs no hashing. `None` when it is longer
    /// than `policy.max_len` characters; no password the policy accepted can match it.
    pub fn to_check(raw: &str, policy: &PasswordPolicy) -> Option<Self> {
        (raw.chars().count() <= policy.max_len).then(|| Self(raw.to_owned()))
    }

    /// Parses a new password against `policy`, naming the first broken rule.
    pub fn parse(raw: &str, policy: &PasswordPolicy) -> Result<Self, ValidationError> {
        Self::parse_field("password", raw, policy)
    }

    /// Like [`Password::parse`], reporting errors against `field` (e.g. `new_password`).
    pub fn parse_field(
        field: &'static str,
        raw: &str,
        policy: &PasswordPolicy,
    ) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if len < policy.min_len || len > policy.max_len {
            return Err(ValidationError::new(
                field,
                format!(
                    "password must be {} to {} characters long",
                    policy.min_len, policy.max_len
                ),
            ));
        }
        if policy.require_lowercase && !raw.chars().any(|c| c.is_ascii_lowercase()) {
            return Err(ValidationError::new(
                field,
                "password must contain at least one lowercase letter",
            ));
        }
        if policy.require_uppercase && !raw.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(ValidationError::new(
                field,
                "password must contain at least one uppercase letter",
            ));
        }
        if policy.require_digit && !raw.chars().any(|c| c.is_ascii_digit()) {
            return Err(ValidationError::new(
                field,
                "password must contain at least one digit",
            ));
        }
        if !policy.specials.is_empty() && !raw.chars().any(|c| policy.specials.contains(c)) {
            return Err(ValidationError::new(
                field,
                format!("password must contain at least one of {}", policy.specials),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The clear text, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A role name: 1 to 64 characters, lowercase Latin letters, digits, `_` and `-`.
/// Deserializing checks the rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "String", try_from = "String"))]
pub struct RoleName(String);

impl TryFrom<String> for RoleName {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, ValidationError> {
        Self::parse(&raw)
    }
}

impl From<RoleName> for String {
    fn from(name: RoleName) -> String {
        name.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for RoleName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for RoleName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for RoleName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl RoleName {
    /// The built-in administrator role.
    pub const ADMIN: &'static str = "admin";

    /// The role name rule as a regular expression, for schemas.
    pub const PATTERN: &'static str = "^[a-z0-9_-]{1,64}$";

    /// The built-in administrator role, as a name.
    pub fn admin() -> Self {
        Self(Self::ADMIN.to_owned())
    }

    /// Parses a role name.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > 64 {
            return Err(ValidationError::new(
                "name",
                "role name must be 1 to 64 characters long",
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(ValidationError::new(
                "name",
                "role name may contain only lowercase Latin letters, digits, '_' and '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_login_policy_allows_what_it_names_and_states_its_pattern() {
        let default = LoginPolicy::default();
        assert_eq!(default.pattern(), "^[A-Za-z0-9]{2,64}$");
        assert!(Login::parse("john.doe").is_err());
        let email_like = LoginPolicy::new(3, 100, "@-._").unwrap();
        assert_eq!(email_like.extra_chars, "-.@_");
        assert_eq!(email_like.pattern(), "^[A-Za-z0-9.@_-]{3,100}$");
        assert!(Login::parse_with("john.doe@example.com", &email_like).is_ok());
        let err = Login::parse_with("john doe", &email_like).unwrap_err();
        assert!(
            err.message.contains("'.'") && err.message.contains("'@'"),
            "{}",
            err.message
        );
        assert!(Login::parse_with("jd", &email_like).is_err());
        for bad in ["+", " ", "/"] {
            assert!(LoginPolicy::new(2, 64, bad).is_err(), "{bad}");
        }
        assert!(LoginPolicy::new(0, 64, "").is_err());
        assert!(LoginPolicy::new(10, 9, "").is_err());
    }

    use super::*;

    #[test]
    fn login_accepts_latin_letters_and_digits_within_bounds() {
        assert!(Login::parse("ab").is_ok());
        assert!(Login::parse("User42").is_ok());
        assert!(Login::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn login_rejects_wrong_lengths() {
        for raw in ["", "a", &"a".repeat(65)] {
            let err = Login::parse(raw).unwrap_err();
            assert_eq!(err.field, "login");
            assert!(err.message.contains("2 to 64"), "{}", err.message);
        }
    }

    #[test]
    fn login_rejects_non_latin_or_symbols() {
        for raw in ["ab c", "user_1", "юзер", "ab-c", "a.b", "émile"] {
            let err = Login::parse(raw).unwrap_err();
            assert!(err.message.contains("Latin letters and digits"), "{raw}");
        }
    }

    #[test]
    fn password_default_policy_accepts_a_compliant_password() {
        assert!(Password::parse("Passw0rd!", &PasswordPolicy::default()).is_ok());
    }

    #[test]
    fn password_rules_each_name_the_rule() {
        let p = PasswordPolicy::default();
        let cases = [
            ("Pa0!", "8 to 128"),
            (&*format!("Pa0!{}", "a".repeat(125)), "8 to 128"),
            ("PASSW0RD!", "lowercase"),
            ("passw0rd!", "uppercase"),
            ("Password!", "digit"),
            ("Passw0rdd", "one of"),
        ];
        for (raw, rule) in cases {
            let err = Password::parse(raw, &p).unwrap_err();
            assert_eq!(err.field, "password");
            assert!(err.message.contains(rule), "{raw}: {}", err.message);
        }
    }

    #[test]
    fn password_accepts_every_listed_special_character() {
        assert_eq!(
            PasswordPolicy::default().pattern(),
            "^(?=[\\s\\S]*[a-z])(?=[\\s\\S]*[A-Z])(?=[\\s\\S]*[0-9])(?=[\\s\\S]*[!@#$%^&*()_+=/.,-])[\\s\\S]{8,128}$"
        );
        for c in DEFAULT_PASSWORD_SPECIALS.chars() {
            let raw = format!("Passw0rd{c}");
            assert!(
                Password::parse(&raw, &PasswordPolicy::default()).is_ok(),
                "{raw}"
            );
        }
    }

    #[test]
    fn password_policy_is_configurable() {
        let relaxed = PasswordPolicy {
            min_len: 4,
            max_len: 10,
            require_lowercase: false,
            require_uppercase: false,
            require_digit: false,
            specials: String::new(),
        };
        assert!(Password::parse("abcd", &relaxed).is_ok());
        assert!(Password::parse("abcdefghijk", &relaxed).is_err());
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::unchecked("Secret1!");
        assert!(!format!("{p:?}").contains("Secret1!"));
    }

    #[test]
    fn names_follow_the_rules() {
        assert!(PersonName::parse("first_name", "Anne-Marie").is_ok());
        let short = PersonName::parse("first_name", "A").unwrap_err();
        assert!(short.message.contains("2 to 32"));
        let long = PersonName::parse("last_name", &"a".repeat(33)).unwrap_err();
        assert_eq!(long.field, "last_name");
        let bad = PersonName::parse("first_name", "Jo3").unwrap_err();
        assert!(bad.message.contains("Latin letters"));
        let dashes = PersonName::parse("first_name", "---").unwrap_err();
        assert!(dashes.message.contains("at least one letter"));
    }

    #[test]
    fn email_is_lowercased_and_validated() {
        assert_eq!(
            Email::parse("John.Doe+x@Example.COM").unwrap().as_str(),
            "john.doe+x@example.com"
        );
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@b.c",
            "a..b@example.com",
            ".a@example.com",
            "a@-example.com",
            "a b@example.com",
            "a@exa mple.com",
            "a@example.c0m",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_names_are_lowercase_identifiers() {
        assert!(RoleName::parse("editor").is_ok());
        assert!(RoleName::parse("Editor").is_err());
        assert!(RoleName::parse("").is_err());
        assert!(RoleName::parse("a b").is_err());
    }
}
