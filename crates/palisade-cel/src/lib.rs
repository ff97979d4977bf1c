//! CEL expressions over Kubernetes objects, with the Kubernetes CEL function libraries
//! (strings, lists, sets, regex, URLs, IP/CIDR, semver, quantity, format) from `kube-cel`.
//!
//! As in a ValidatingAdmissionPolicy validation, an expression states what a *valid* object
//! looks like: it must evaluate to `true`; `false` is a violation. `object` is bound to the
//! object (for Secrets: with values removed by ingestion).

use kube_cel::{KubeCelExt, cel};

/// A compiled expression.
pub struct Expression {
    program: cel::Program,
    source: String,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expression")
            .field("source", &self.source)
            .finish()
    }
}

impl Expression {
    /// Compiles `source`, or explains the syntax error.
    pub fn compile(source: &str) -> Result<Expression, String> {
        let program = cel::Program::compile(source).map_err(|e| format!("invalid CEL: {e}"))?;
        Ok(Expression {
            program,
            source: source.to_string(),
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression with `object` bound. A non-boolean result or an evaluation
    /// error (such as a missing field without `has()`) is an error: the check cannot decide.
    pub fn holds(&self, object: &serde_json::Value) -> Result<bool, String> {
        let mut ctx = cel::Context::default().with_all();
        ctx.add_variable("object", object.clone())
            .map_err(|e| format!("cannot bind object: {e}"))?;
        match self.program.execute(&ctx) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!(
                "expression must evaluate to a boolean, got {:?}",
                other.type_of()
            )),
            Err(e) => Err(format!("evaluation failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(labels: serde_json::Value, replicas: i64) -> serde_json::Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "labels": labels},
               "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                   {"name": "web", "image": "registry.example.com/web:1.2.3",
                    "resources": {"limits": {"memory": "512Mi"}}}]}}}})
    }

    #[test]
    fn validation_semantics_true_is_valid() {
        let e =
            Expression::compile("has(object.metadata.labels) && 'team' in object.metadata.labels")
                .unwrap();
        assert!(e.holds(&deploy(json!({"team": "a"}), 2)).unwrap());
        assert!(!e.holds(&deploy(json!({"app": "a"}), 2)).unwrap());
    }

    #[test]
    fn macros_and_kubernetes_libraries() {
        let all = Expression::compile(
            "object.spec.template.spec.containers.all(c, c.image.startsWith('registry.example.com/'))",
        )
        .unwrap();
        assert!(all.holds(&deploy(json!({}), 1)).unwrap());
        let q = Expression::compile(
            "object.spec.template.spec.containers.all(c, quantity(c.resources.limits.memory).isLessThan(quantity('1Gi')))",
        )
        .unwrap();
        assert!(q.holds(&deploy(json!({}), 1)).unwrap());
        let r = Expression::compile("object.spec.replicas >= 2").unwrap();
        assert!(!r.holds(&deploy(json!({}), 1)).unwrap());
    }

    #[test]
    fn errors_are_reported_not_guessed() {
        assert!(Expression::compile("object.spec.(").is_err());
        let missing = Expression::compile("object.spec.nope == 1").unwrap();
        assert!(missing.holds(&deploy(json!({}), 1)).is_err());
        let not_bool = Expression::compile("object.spec.replicas").unwrap();
        assert!(not_bool.holds(&deploy(json!({}), 1)).is_err());
    }
}
