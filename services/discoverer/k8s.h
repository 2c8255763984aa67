/*
 * k8s: the discoverer's kubernetes_sd_configs provider, roles pod and
 * endpoints, labelled as Prometheus 2.42 labels them.
 *
 * API access: api_server with the configured credentials and tls_config,
 * or, without api_server, in-cluster: https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT with the service account's token (re-read for
 * every request, so rotated tokens work) and CA from
 * /var/run/secrets/kubernetes.io/serviceaccount (the directory can be
 * moved with $AXON_KUBERNETES_SERVICEACCOUNT_DIR); own_namespace reads its
 * `namespace` file.
 *
 * Each watched resource (pods; for endpoints also services and pods) in
 * each namespace (or all) has a thread that lists it (GET .../pods with
 * the role's label and field selectors), then watches from the list's
 * resourceVersion (?watch=true&allowWatchBookmarks=true), applying ADDED,
 * MODIFIED and DELETED to its store and moving on with BOOKMARKs.  A watch
 * that ends is resumed from the last resourceVersion; an ERROR event with
 * code 410 (the version is too old) or any failure makes it list again.
 * After every change the groups are rebuilt from the stores:
 *   pod        group "pod/<ns>/<name>" (none for a pod without an IP):
 *              __meta_kubernetes_namespace, _pod_name, _pod_ip,
 *              _pod_label_<k>, _pod_labelpresent_<k>, _pod_annotation_<k>,
 *              _pod_annotationpresent_<k>, _pod_ready, _pod_phase,
 *              _pod_node_name, _pod_host_ip, _pod_uid,
 *              _pod_controller_kind, _pod_controller_name; a target per
 *              container port (containers, then init containers;
 *              address podIP:port) or per container without ports
 *              (address podIP) with _pod_container_name, _image, _init,
 *              _port_name, _port_number, _port_protocol;
 *   endpoints  group "endpoints/<ns>/<name>": __meta_kubernetes_namespace,
 *              _endpoints_name, _endpoints_label(present)_<k>, and the
 *              same-named service's _service_name, _service_label(present)
 *              _<k>, _service_annotation(present)_<k>; a target per
 *              subset port and address (ready "true") and not-ready
 *              address ("false") with _endpoint_port_name,
 *              _endpoint_port_protocol, _endpoint_ready,
 *              _endpoint_address_target_kind/_name, _endpoint_node_name,
 *              _endpoint_hostname, plus the pod's labels and the matching
 *              container port's when the address is a pod; every
 *              container port of those pods no endpoint port covers is a
 *              target too.
 */
#ifndef DISC_K8S_H
#define DISC_K8S_H

#include "ax_sd.h"
#include "discoverer/sd.h"

/*
 * Run conf until host->stopping says so, publishing through host.  Blocks
 * (its caller is a provider thread).
 */
void disc_k8s_run(const ax_k8ssd_t *conf, const disc_prov_host_t *host);

/* The in-cluster API address and credentials paths from the environment.
 * OUT: url (cap bytes), token and CA paths.  -1 when not in a cluster. */
int disc_k8s_in_cluster(char *url, size_t cap, char *token, char *ca,
    char *ns_file, size_t pcap);

#endif
