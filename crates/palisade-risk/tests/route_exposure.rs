//! Gateway API routes and Istio VirtualServices bound to a gateway expose the workloads behind
//! their Services as an Ingress does; a VirtualService inside the mesh does not.

use palisade_risk::{ExposureIndex, ExposureLevel};

/// A Deployment and the Service selecting it, for each name.
fn workloads(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {n}, namespace: shop}}\n\
                 spec:\n  selector: {{matchLabels: {{app: {n}}}}}\n  template:\n\
                 \x20   metadata: {{labels: {{app: {n}}}}}\n\
                 \x20   spec: {{containers: [{{name: {n}, image: registry.example.com/{n}:1}}]}}\n---\n\
                 apiVersion: v1\nkind: Service\nmetadata: {{name: {n}, namespace: shop}}\n\
                 spec: {{selector: {{app: {n}}}, ports: [{{port: 80}}]}}\n---\n"
            )
        })
        .collect()
}

/// An HTTPRoute to web, a VirtualService on a gateway to cart, one inside the mesh to stock.
const ROUTES: &str = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: public, namespace: edge}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [cart.example.com]
  gateways: [edge/public]
  http: [{route: [{destination: {host: cart}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: stock, namespace: shop}
spec:
  hosts: [stock]
  http: [{route: [{destination: {host: stock.shop.svc.cluster.local}}]}]
"#;

#[test]
fn routes_and_gateway_bound_virtual_services_expose_like_ingresses() {
    let text = workloads(&["web", "cart", "stock"]) + ROUTES;
    let inv = palisade_ingest::ingest_str("routes.yaml", &text).inventory;
    assert_eq!(inv.workloads.len(), 3);
    let index = ExposureIndex::build(&inv);
    let exposure = |name: &str| {
        let w = inv
            .workloads
            .iter()
            .find(|w| w.meta.name == name)
            .expect("workload");
        index.exposure_of(w)
    };
    for (name, via) in [
        ("web", "HTTPRoute shop/web -> Service shop/web"),
        ("cart", "VirtualService shop/cart -> Service shop/cart"),
    ] {
        let e = exposure(name);
        assert_eq!(e.level, ExposureLevel::Ingress, "{name}");
        assert!(
            e.routes.iter().any(|r| r.via == via),
            "{name}: {:?}",
            e.routes
        );
    }
    // Inside the mesh only: reachable through its ClusterIP Service, not from outside.
    assert_eq!(exposure("stock").level, ExposureLevel::ClusterInternal);
}
