//! Token lifecycle on both back ends: created with a secret shown once, authenticated by it,
//! refused once revoked or expired, every change audited.

mod support;

use palisade_api::{Role, TokenCreate};
use palisade_model::time::Date;
use palisade_store::StoreError;
use support::at;

on_both_backends! {
    async fn token_lifecycle(db: Db) {
        let store = &db.store;
        let admin = store
            .create_token(
                &TokenCreate { name: "ops".into(), role: Role::Admin, cluster: None, expires: None },
                "bootstrap",
                at(0),
            )
            .await
            .unwrap();
        assert!(admin.token.starts_with(&format!("pal_{}_", admin.info.id)));
        // 256-bit secret, hex.
        assert_eq!(admin.token.rsplit('_').next().unwrap().len(), 64);
        let sensor = store
            .create_token(
                &TokenCreate {
                    name: "prod sensor".into(),
                    role: Role::Sensor,
                    cluster: Some("prod".into()),
                    expires: Some(Date::parse("2026-12-02").unwrap()),
                },
                "ops",
                at(1),
            )
            .await
            .unwrap();

        let info = store.authenticate(&sensor.token, at(2)).await.unwrap().unwrap();
        assert_eq!(info, sensor.info);
        // Valid through the last day, refused the day after.
        assert!(store.authenticate(&sensor.token, at(47)).await.unwrap().is_some());
        assert!(store.authenticate(&sensor.token, at(48)).await.unwrap().is_none());
        // A wrong secret with the right id is refused.
        let forged = format!("pal_{}_{}", sensor.info.id, "0".repeat(64));
        assert!(store.authenticate(&forged, at(2)).await.unwrap().is_none());
        assert!(store.authenticate("nonsense", at(2)).await.unwrap().is_none());

        let revoked = store.revoke_token(&admin.info.id, "ops", at(3)).await.unwrap();
        assert_eq!(revoked.revoked_at, Some(at(3)));
        assert!(store.authenticate(&admin.token, at(4)).await.unwrap().is_none());
        assert!(matches!(
            store.revoke_token(&admin.info.id, "ops", at(4)).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store.revoke_token("nope", "ops", at(4)).await,
            Err(StoreError::NotFound(_))
        ));

        let listed = store.list_tokens().await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].id, admin.info.id);
        assert_eq!(listed[0].revoked_at, Some(at(3)));

        // The secret is stored nowhere: not in the listing, not in the audit log.
        let audit = store.audit(None, None).await.unwrap();
        let actions: Vec<_> = audit.items.iter().map(|e| (e.action.as_str(), e.actor.as_str())).collect();
        assert_eq!(actions, [("token.revoke", "ops"), ("token.create", "ops"), ("token.create", "bootstrap")]);
        let dump = serde_json::to_string(&(listed, audit.items)).unwrap();
        assert!(!dump.contains(&admin.token[admin.token.len() - 64..]));
        assert!(!dump.contains(&sensor.token[sensor.token.len() - 64..]));
    }

    async fn token_requests_are_validated(db: Db) {
        let store = &db.store;
        let bound_admin = TokenCreate { name: "x".into(), role: Role::Admin, cluster: Some("c".into()), expires: None };
        let unbound_agent = TokenCreate { name: "x".into(), role: Role::Agent, cluster: None, expires: None };
        let nameless = TokenCreate { name: " ".into(), role: Role::Analyst, cluster: None, expires: None };
        for (req, field) in [(bound_admin, "cluster"), (unbound_agent, "cluster"), (nameless, "name")] {
            match store.create_token(&req, "ops", at(0)).await {
                Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected invalid {field}, got {other:?}"),
            }
        }
        assert!(store.list_tokens().await.unwrap().is_empty());
    }
}
