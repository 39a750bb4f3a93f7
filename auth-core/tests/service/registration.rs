use super::*;

#[tokio::test]
async fn each_invalid_field_is_rejected_with_the_rule_named() {
    let f = fixture();
    let cases = [
        (
            Registration {
                login: "a".into(),
                ..registration("x")
            },
            "login",
            "2 to 64",
        ),
        (
            Registration {
                login: "bad login".into(),
                ..registration("x")
            },
            "login",
            "Latin letters and digits",
        ),
        (
            Registration {
                password: "short1!".into(),
                ..registration("alice")
            },
            "password",
            "8 to 128",
        ),
        (
            Registration {
                password: "password1!".into(),
                ..registration("alice")
            },
            "password",
            "uppercase",
        ),
        (
            Registration {
                email: Some("not-an-email".into()),
                ..registration("alice")
            },
            "email",
            "valid email",
        ),
        (
            Registration {
                first_name: Some("J".into()),
                ..registration("alice")
            },
            "first_name",
            "2 to 32",
        ),
        (
            Registration {
                last_name: Some("--".into()),
                ..registration("alice")
            },
            "last_name",
            "at least one letter",
        ),
    ];
    for (reg, field, rule) in cases {
        match f.auth.register(reg, &ClientInfo::default()).await {
            Err(AuthError::Validation(e)) => {
                assert_eq!(e.field, field);
                assert!(e.message.contains(rule), "{}", e.message);
            }
            other => panic!("expected validation error, got {other:?}"),
        }
    }
    assert!(f.auth.list_users(None, 10, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn duplicate_login_and_email_conflict() {
    let f = fixture();
    f.auth
        .register(
            Registration {
                email: Some("Alice@Example.com".into()),
                ..registration("alice")
            },
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .register(registration("Alice"), &ClientInfo::default())
            .await,
        Err(AuthError::LoginTaken)
    ));
    assert!(matches!(
        f.auth
            .register(
                Registration {
                    email: Some("alice@example.com".into()),
                    ..registration("bob")
                },
                &ClientInfo::default()
            )
            .await,
        Err(AuthError::EmailTaken)
    ));
}

#[tokio::test]
async fn the_stored_hash_is_argon2id_and_never_the_password() {
    let f = fixture();
    let user = f
        .auth
        .register(registration("alice"), &ClientInfo::default())
        .await
        .unwrap();
    let hash = f.store.password_hash(user.id).await.unwrap().unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn email_is_required_when_verification_is_on() {
    let f = fixture_with(
        AuthConfig {
            require_email_verification: true,
            ..Default::default()
        },
        keys(),
    );
    let Err(AuthError::Validation(e)) = f
        .auth
        .register(registration("alice"), &ClientInfo::default())
        .await
    else {
        panic!("expected a validation error");
    };
    assert_eq!(e.field, "email");
}
