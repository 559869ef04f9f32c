{{/*
Names, labels and shared fragments. Object names for peers come from the compiler
(node names, network name); the chart only appends fixed suffixes:
  <network>-<group>                StatefulSet, PodDisruptionBudget, NetworkPolicy
  <network>-<group>-<ordinal>      pods and per-node Services (node names from the values)
  <network>-<group>-peers          headless Service
  <network>-<group>-rpc            RPC Service and Ingress
  <network>-<group>-config         ConfigMap (geth TOML, node list)
  <network>-<group>-keys           Secret (node keys, keystores, keystore password)
  <network>-<group>-keystores      ConfigMap (keystores, only with keystore.secret=false)
  <network>-genesis                ConfigMap (genesis.json)
  <network>-consensus              ConfigMap (proof of stake: config.yaml, the genesis state's parts and SHA-256)
  <network>-genesis-state-<i>      ConfigMap (proof of stake: part i of the gzipped genesis state; name from the compiler)
  <pod>-validator-keys             Secret (proof of stake: a validator pod's wallet; name from the compiler)
                                   The last two come from the compiler's objects/ with largeObjects: separate.
  <network>-ethstats               Secret (ethstats secret), Deployment, Service, NetworkPolicy
  <network>-dashboard              ConfigMap (Grafana dashboard)
  <network>-scripts                ConfigMap (the scripts of files/ the pods run)
  <network>                        ServiceMonitor, PrometheusRule
  <network>-test-rpc               helm test Pod
*/}}

{{/* The network name, prefix of every object. */}}
{{- define "kuberneteth.network" -}}
{{- .Values.network.name -}}
{{- end -}}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "kuberneteth.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of a group-level object: <network>-<group>[-suffix]. ctx: dict root group [suffix] */}}
{{- define "kuberneteth.group.name" -}}
{{- $n := printf "%s-%s" (include "kuberneteth.network" .root) .group.name -}}
{{- if .suffix -}}{{- $n = printf "%s-%s" $n .suffix -}}{{- end -}}
{{- $n -}}
{{- end -}}

{{/* Labels on every object of the release. ctx: root */}}
{{- define "kuberneteth.commonLabels" -}}
app.kubernetes.io/name: kuberneteth
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/part-of: {{ include "kuberneteth.network" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ include "kuberneteth.chart" . | quote }}
{{- end -}}

{{/* Selector of every pod of the release (never version labels: selectors are immutable). ctx: root */}}
{{- define "kuberneteth.selectorLabels" -}}
app.kubernetes.io/name: kuberneteth
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/* Selector of the pods of one node group. ctx: dict root group */}}
{{- define "kuberneteth.group.selectorLabels" -}}
{{ include "kuberneteth.selectorLabels" .root }}
kuberneteth.io/group: {{ .group.name | quote }}
{{- end -}}

{{/* Labels of the objects and pods of one node group. ctx: dict root group */}}
{{- define "kuberneteth.group.labels" -}}
{{ include "kuberneteth.commonLabels" .root }}
app.kubernetes.io/version: {{ .group.gethVersion | quote }}
app.kubernetes.io/component: {{ .group.role | quote }}
kuberneteth.io/group: {{ .group.name | quote }}
{{- end -}}

{{/* Labels of release-wide objects. ctx: dict root component */}}
{{- define "kuberneteth.labels" -}}
{{ include "kuberneteth.commonLabels" .root }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end -}}

{{/* Selector of the ethstats server pods. ctx: root */}}
{{- define "kuberneteth.ethstats.selectorLabels" -}}
{{ include "kuberneteth.selectorLabels" . }}
app.kubernetes.io/component: ethstats
{{- end -}}

{{/* Whether the network has more than one node: readiness then needs a peer. ctx: root */}}
{{- define "kuberneteth.multiNode" -}}
{{- $total := 0 -}}
{{- range .Values.nodeGroups -}}{{- $total = add $total (int64 .replicas) -}}{{- end -}}
{{- if gt (int64 $total) 1 -}}true{{- end -}}
{{- end -}}

{{/*
Proof of stake: the beacon peers a pod needs. Validator and bootnode pods (those with
their own Service), when there are several: every other such pod when the pod starts
(beaconPeersAtStart: a rolling update replaces the next pod only once this one is Ready,
so it never leaves a node cut off), all but one of them afterwards (beaconPeersWhenReady:
one pod's restart must not make the others unready, or the StatefulSet controller,
which deletes old pods that are not Ready at once in Parallel mode, takes them down
too). Other pods need one. ctx: dict root group
*/}}
{{- define "kuberneteth.group.stablePods" -}}
{{- $stable := 0 -}}
{{- range .root.Values.nodeGroups -}}{{- if .nodeServices -}}{{- $stable = add $stable (len .nodes) -}}{{- end -}}{{- end -}}
{{- if .group.nodeServices -}}{{- $stable -}}{{- else -}}0{{- end -}}
{{- end -}}

{{- define "kuberneteth.group.beaconPeersAtStart" -}}
{{- $stable := int64 (include "kuberneteth.group.stablePods" .) -}}
{{- if gt $stable 1 -}}{{- sub $stable 1 -}}{{- else -}}1{{- end -}}
{{- end -}}

{{- define "kuberneteth.group.beaconPeersWhenReady" -}}
{{- $stable := int64 (include "kuberneteth.group.stablePods" .) -}}
{{- if gt $stable 1 -}}{{- sub $stable 2 -}}{{- else -}}1{{- end -}}
{{- end -}}

{{/*
A shell fragment for geth's probes: `&& ` the pod's beacon node (Beacon API on
localhost; the Prysm image has no HTTP client, so geth's container asks) is connected
to at least `count` peers. wget has no timeout of its own here (Debian's busybox lacks
-T): the probe's timeoutSeconds bounds it. ctx: dict pos count
*/}}
{{- define "kuberneteth.geth.beaconPeersAtLeast" -}}
&& connected=$(wget -q -O - http://127.0.0.1:{{ int64 .pos.ports.api }}/eth/v1/node/peer_count
| sed -n 's/.*"connected":"\([0-9]*\)".*/\1/p')
&& [ "${connected:-0}" -ge {{ .count }} ]
{{- end -}}

{{/* Image reference. ctx: an image map {repository, tag} */}}
{{- define "kuberneteth.image" -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}

{{/* Pod-level security context shared by every pod. */}}
{{- define "kuberneteth.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security context shared by every container. */}}
{{- define "kuberneteth.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Data of the genesis ConfigMap. The same text feeds the ConfigMap and the pods'
checksum/config annotation, so the two cannot disagree. ctx: root
*/}}
{{- define "kuberneteth.genesis.data" -}}
{{ dict "genesis.json" .Values.genesis.json | toYaml }}
{{- end -}}

{{/*
Data of a group's ConfigMap: the geth TOML and the node list. The TOML's namespace and
cluster domain placeholders (in the RPC Service's names geth accepts as virtual hosts)
are filled here; the per-pod placeholders are filled by the init step. ctx: dict root group
*/}}
{{- define "kuberneteth.group.configData" -}}
{{- $root := .root -}}
{{- $nodes := list "# node signerAddress keystoreFile (- = none)" -}}
{{- range .group.nodes -}}
{{- $file := "-" -}}
{{- if .signerAddress -}}
{{- $ks := index $root.Values.secrets.signerKeystores .name | default dict -}}
{{- $file = $ks.fileName | default "-" -}}
{{- end -}}
{{- $nodes = append $nodes (printf "%s %s %s" .name (.signerAddress | default "-") $file) -}}
{{- end -}}
{{- $toml := .group.config | replace "__NAMESPACE__" $root.Release.Namespace | replace "__CLUSTER_DOMAIN__" $root.Values.clusterDomain }}
{{- $data := dict "config.toml" $toml "nodes" (printf "%s\n" (join "\n" $nodes)) }}
{{- if eq .group.role "validator" }}
{{- $files := list "# node secretKey pathUnderWalletDir sha256" }}
{{- range $node := .group.nodes }}
{{- $keys := required (printf "nodeGroups[].nodes[].validatorKeys is missing for %s: compile the values with this chart's kuberneteth-values" $node.name) $node.validatorKeys }}
{{- range $i, $file := $keys.files }}
{{- $files = append $files (printf "%s wallet-%d %s %s" $node.name $i $file.path $file.sha256) }}
{{- end }}
{{- end }}
{{- $_ := set $data "wallet-files" (printf "%s\n" (join "\n" $files)) }}
{{- end }}
{{ toYaml $data }}
{{- end -}}

{{/*
Data of a validator pod's keys Secret (largeObjects: release): its wallet's files, in
the order of validatorKeys.files, and the wallet's password. The keys carry the pod's
name, so the Secrets of a group's pods project side by side into one directory.
ctx: dict root node
*/}}
{{- define "kuberneteth.validatorKeys.data" -}}
{{- $wallets := (.root.Values.secrets | default dict).validatorWallets | default dict -}}
{{- $wallet := required (printf "secrets.validatorWallets has no wallet for %s: pass the compiler's secrets.values.yaml with -f" .node.name) (index $wallets .node.name) -}}
{{- range $i, $file := .node.validatorKeys.files }}
{{ $.node.name }}.wallet-{{ $i }}: {{ required (printf "secrets.validatorWallets.%s has no file %s" $.node.name $file.path) (index $wallet.files $file.path) | b64enc | quote }}
{{- end }}
{{ .node.name }}.wallet-password: {{ $wallet.password | b64enc | quote }}
{{- end -}}

{{/* Whether a group holds signer keys (its nodes have signer addresses). ctx: group */}}
{{- define "kuberneteth.group.hasSigners" -}}
{{- range .nodes -}}{{- if .signerAddress -}}true{{- end -}}{{- end -}}
{{- end -}}

{{/* Data of a group's Secret: node keys, for signers keystores (if in a Secret) and password, for proof of stake beacon keys and JWTs. ctx: dict root group */}}
{{- define "kuberneteth.group.secretData" -}}
{{- $root := .root -}}
{{- range .group.nodes }}
{{ .name }}.nodekey: {{ required (printf "secrets.nodeKeys has no key for %s: pass the compiler's secrets.values.yaml with -f" .name) (index $root.Values.secrets.nodeKeys .name) | b64enc | quote }}
{{- if and .signerAddress $root.Values.keystore.secret }}
{{ .name }}.keystore: {{ required (printf "secrets.signerKeystores has no keystore for %s" .name) (index $root.Values.secrets.signerKeystores .name | default dict).json | b64enc | quote }}
{{- end }}
{{- if $root.Values.proofOfStake }}
{{- $beacon := required (printf "secrets.beacon has no beacon node key and JWT for %s: pass the compiler's secrets.values.yaml with -f" .name) (index ($root.Values.secrets.beacon | default dict) .name) }}
{{ .name }}.beacon-p2p-key: {{ $beacon.nodeKey | b64enc | quote }}
{{ .name }}.jwt-secret: {{ $beacon.jwtSecret | b64enc | quote }}
{{- end }}
{{- end }}
{{- if include "kuberneteth.group.hasSigners" .group }}
password: {{ required "secrets.keystorePassword is empty: pass the compiler's secrets.values.yaml with -f" $root.Values.secrets.keystorePassword | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* Data of a group's keystore ConfigMap (keystore.secret=false only). ctx: dict root group */}}
{{- define "kuberneteth.group.keystoreData" -}}
{{- $root := .root -}}
{{- $data := dict -}}
{{- range .group.nodes -}}
{{- if .signerAddress -}}
{{- $ks := required (printf "secrets.signerKeystores has no keystore for %s" .name) (index $root.Values.secrets.signerKeystores .name) -}}
{{- $_ := set $data (printf "%s.keystore" .name) $ks.json -}}
{{- end -}}
{{- end -}}
{{- if $data }}{{ toYaml $data }}{{ end -}}
{{- end -}}

{{/* Data of the ethstats Secret. ctx: root */}}
{{- define "kuberneteth.ethstats.secretData" -}}
secret: {{ .Values.secrets.ethstatsSecret | b64enc | quote }}
{{- end -}}

{{/*
Data of the consensus ConfigMap (proof of stake): the consensus clients' config.yaml, and
the genesis state gzipped (binaryData: a mainnet-preset state is larger than a ConfigMap
holds; the init step unpacks it). ctx: root
*/}}
{{- define "kuberneteth.consensus.data" -}}
{{- $state := .Values.proofOfStake.genesisState -}}
{{- $parts := list "# index configMap sha256" -}}
{{- range $i, $part := $state.parts -}}
{{- $parts = append $parts (printf "%d %s %s" $i $part.configMap $part.sha256) -}}
{{- end -}}
data:
  {{- dict "config.yaml" .Values.proofOfStake.chainConfig "genesis-state-parts" (printf "%s\n" (join "\n" $parts)) "genesis-state-sha256" $state.sha256 | toYaml | nindent 2 }}
{{- end -}}

{{/* Whether the chart creates the genesis state's ConfigMaps and the validators' keys Secrets. ctx: root */}}
{{- define "kuberneteth.largeObjectsInRelease" -}}
{{- if and .Values.proofOfStake (eq .Values.proofOfStake.largeObjects "release") -}}true{{- end -}}
{{- end -}}

{{/* checksum/config of a group's pods: everything non-secret they read, the scripts they run too. ctx: dict root group */}}
{{- define "kuberneteth.group.checksumConfig" -}}
{{- $parts := list (include "kuberneteth.genesis.data" .root) (include "kuberneteth.group.configData" .) -}}
{{- if .root.Values.proofOfStake -}}
{{- $parts = append $parts (include "kuberneteth.consensus.data" .root) -}}
{{- end -}}
{{- if not .root.Values.keystore.secret -}}
{{- $parts = append $parts (include "kuberneteth.group.keystoreData" .) -}}
{{- end -}}
{{- $parts = append $parts (.root.Files.Get "files/init-genesis.sh") -}}
{{- $parts = append $parts (.root.Files.Get "files/prepare.sh") -}}
{{- if .group.resources.voteSigners -}}
{{- $parts = append $parts (.root.Files.Get "files/vote-signers.sh") -}}
{{- end -}}
{{- join "\n---\n" $parts | sha256sum -}}
{{- end -}}

{{/*
checksum/secret of a group's pods: the Secrets they read. Validator keys Secrets applied
separately are followed by their files' SHA-256 in checksum/config. ctx: dict root group
*/}}
{{- define "kuberneteth.group.checksumSecret" -}}
{{- $parts := list (include "kuberneteth.group.secretData" .) (include "kuberneteth.ethstats.secretData" .root) -}}
{{- if and (include "kuberneteth.largeObjectsInRelease" .root) (eq .group.role "validator") -}}
{{- range .group.nodes -}}
{{- $parts = append $parts (include "kuberneteth.validatorKeys.data" (dict "root" $.root "node" .)) -}}
{{- end -}}
{{- end -}}
{{- join "\n---\n" $parts | sha256sum -}}
{{- end -}}

{{/* The first node group that serves HTTP RPC with the `eth` namespace (used by helm test and NOTES). ctx: root */}}
{{- define "kuberneteth.httpGroup" -}}
{{- $found := "" -}}
{{- range .Values.nodeGroups -}}
{{- if and (not $found) .rpc.http (has "eth" .rpc.modules) -}}{{- $found = .name -}}{{- end -}}
{{- end -}}
{{- $found -}}
{{- end -}}

{{/* values.yaml and secrets.values.yaml must come from one compile: both carry its generation. ctx: root */}}
{{- define "kuberneteth.checkGeneration" -}}
{{- $public := .Values.generation | default "" -}}
{{- $private := (.Values.secrets | default dict).generation | default "" -}}
{{- if and $public (ne $public $private) -}}
{{- fail (printf "values.yaml (generation %s) and secrets.values.yaml (generation %s) come from different compiles; pass the pair one compile wrote, or compile again" (trunc 12 $public) (trunc 12 (default "none" $private))) -}}
{{- end -}}
{{- end -}}

{{/*
The rollout of coordinated groups (signer, validator and bootnode groups: those the
network cannot lose several of at once). Their StatefulSets hold every pod between
rollouts: a partition above any ordinal, so no StatefulSet replaces a pod by itself;
the rollout Job (job-rollout.yaml) walks each partition down one pod at a time, then
back. The hold is a constant, so the value Helm applies never changes and Helm 4's
server-side apply never conflicts with the Job's patches.
*/}}
{{- define "kuberneteth.rollout.hold" -}}2147483647{{- end -}}

{{/* The coordinated groups, in values order, as a JSON list of groups. ctx: root */}}
{{- define "kuberneteth.rollout.groups" -}}
{{- $groups := list -}}
{{- range .Values.nodeGroups -}}{{- if .updateStrategy.coordinated -}}{{- $groups = append $groups . -}}{{- end -}}{{- end -}}
{{- toJson $groups -}}
{{- end -}}

{{/* Name of the rollout Job, its ServiceAccount, Role and RoleBinding. ctx: root */}}
{{- define "kuberneteth.rollout.name" -}}
{{- printf "%s-rollout" (include "kuberneteth.network" .) -}}
{{- end -}}

{{/* One step of the rollout Job: a kubectl command. ctx: dict root step{name, args} */}}
{{- define "kuberneteth.rollout.step" -}}
{{- $image := .root.Values.rollout.image -}}
- name: {{ .step.name }}
  image: {{ include "kuberneteth.image" $image | quote }}
  imagePullPolicy: {{ $image.pullPolicy }}
  command: ["/bin/kubectl"]
  args:
    {{- toYaml .step.args | nindent 4 }}
  env:
    - name: HOME
      value: /tmp
  securityContext:
    {{- include "kuberneteth.containerSecurityContext" .root | nindent 4 }}
  resources:
    {{- with .root.Values.rollout.resources }}
    {{- toYaml . | nindent 4 }}
    {{- else }}
    requests:
      cpu: 10m
      memory: 32Mi
    limits:
      memory: 128Mi
    {{- end }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end -}}
