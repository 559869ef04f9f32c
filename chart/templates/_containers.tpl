{{/*
The containers of a node group's pods (statefulset.yaml lists them), one template each.
Every one takes ctx: dict root group, and renders one list item at column 0 (the
StatefulSet indents it).

The init steps run scripts from files/ (init-genesis.sh, prepare.sh), shipped in the
`<network>-scripts` ConfigMap and mounted at /etc/kuberneteth/scripts; what differs
between groups reaches them as arguments and environment variables, each described at
the top of its script. Their text is in the pods' checksum/config, so a change to a
script rolls the pods.
*/}}

{{/* The flags every `geth init` takes: the group's --state.scheme and --db.engine flags. ctx: dict root group */}}
{{- define "kuberneteth.group.initArgs" -}}
{{- $initArgs := list -}}
{{- range .group.args -}}{{- if or (hasPrefix "--state.scheme" .) (hasPrefix "--db.engine" .) -}}{{- $initArgs = append $initArgs . -}}{{- end -}}{{- end -}}
{{- toJson $initArgs -}}
{{- end -}}

{{/* Init step 1: `geth init` (files/init-genesis.sh). ctx: dict root group */}}
{{- define "kuberneteth.container.initGenesis" -}}
{{- $group := .group -}}
{{- $initArgs := include "kuberneteth.group.initArgs" . | fromJsonArray -}}
- name: init-genesis
  image: {{ include "kuberneteth.image" $group.image | quote }}
  imagePullPolicy: {{ $group.image.pullPolicy }}
  command:
    - /bin/sh
    - /etc/kuberneteth/scripts/init-genesis.sh
  {{- with $initArgs }}
  args:
    {{- range . }}
    - {{ . | quote }}
    {{- end }}
  {{- end }}
  {{- with $group.newDatabaseArgs }}
  env:
    - name: NEW_DATABASE_ARGS
      value: {{ join "\n" . | quote }}
  {{- end }}
  securityContext:
    {{- include "kuberneteth.containerSecurityContext" .root | nindent 4 }}
  {{- with $group.resources.init }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: data
      mountPath: /data
    - name: genesis
      mountPath: /etc/kuberneteth/genesis
      readOnly: true
    - name: scripts
      mountPath: /etc/kuberneteth/scripts
      readOnly: true
    - name: tmp
      mountPath: /tmp
{{- end -}}

{{/* Init step 2: the final geth TOML and this pod's keys (files/prepare.sh). ctx: dict root group */}}
{{- define "kuberneteth.container.prepare" -}}
{{- $group := .group -}}
{{- $pos := .root.Values.proofOfStake -}}
{{- $signers := include "kuberneteth.group.hasSigners" $group -}}
{{- $keystoresInSecret := .root.Values.keystore.secret -}}
{{- $validatorClient := and $pos (eq $group.role "validator") -}}
- name: prepare
  image: {{ include "kuberneteth.image" $group.image | quote }}
  imagePullPolicy: {{ $group.image.pullPolicy }}
  env:
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: PEER_HOSTS
      value: {{ join " " $group.peerHosts | quote }}
    - name: RESOLVE_TIMEOUT_SECONDS
      value: "300"
    - name: CONSENSUS
      value: {{ if $pos }}proofOfStake{{ else }}clique{{ end }}
    {{- if $signers }}
    - name: SIGNER_KEYSTORES
      value: {{ ternary "/etc/kuberneteth/keys" "/etc/kuberneteth/keystores" $keystoresInSecret }}
    {{- end }}
    - name: UNLOCK_SIGNER
      value: {{ if $group.unlockSigner }}"true"{{ else }}"false"{{ end }}
    - name: VALIDATOR_CLIENT
      value: {{ if $validatorClient }}"true"{{ else }}"false"{{ end }}
  command:
    - /bin/sh
    - /etc/kuberneteth/scripts/prepare.sh
  securityContext:
    {{- include "kuberneteth.containerSecurityContext" .root | nindent 4 }}
  {{- with $group.resources.init }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: run
      mountPath: /run/kuberneteth
    - name: config
      mountPath: /etc/kuberneteth/config
      readOnly: true
    - name: keys
      mountPath: /etc/kuberneteth/keys
      readOnly: true
    - name: ethstats
      mountPath: /etc/kuberneteth/ethstats
      readOnly: true
    {{- if $pos }}
    - name: consensus
      mountPath: /etc/kuberneteth/consensus
      readOnly: true
    - name: genesis-state
      mountPath: /var/lib/kuberneteth/consensus
    {{- end }}
    {{- if and $signers (not $keystoresInSecret) }}
    - name: keystores
      mountPath: /etc/kuberneteth/keystores
      readOnly: true
    {{- end }}
    - name: scripts
      mountPath: /etc/kuberneteth/scripts
      readOnly: true
    - name: tmp
      mountPath: /tmp
{{- end -}}

{{/* geth, with the compiled flags (a signer's with its address unlocked). ctx: dict root group */}}
{{- define "kuberneteth.container.geth" -}}
{{- $root := .root -}}
{{- $group := .group -}}
{{- $pos := $root.Values.proofOfStake -}}
{{- $multiNode := include "kuberneteth.multiNode" $root -}}
- name: geth
  image: {{ include "kuberneteth.image" $group.image | quote }}
  imagePullPolicy: {{ $group.image.pullPolicy }}
  command:
    - /bin/sh
    - -c
    {{- if $group.unlockSigner }}
    - |
      set -eu
      address=$(cat /run/kuberneteth/signer-address)
      exec geth "$@" --miner.etherbase="$address" --unlock="$address"
    {{- else }}
    - exec geth "$@"
    {{- end }}
    - geth
  args:
    {{- range $group.args }}
    - {{ . | quote }}
    {{- end }}
  env:
    - name: HOME
      value: /tmp
  ports:
    - name: p2p
      containerPort: {{ int64 $group.ports.p2p }}
      protocol: TCP
    - name: discovery
      containerPort: {{ int64 $group.ports.p2p }}
      protocol: UDP
    {{- if $group.rpc.http }}
    - name: http
      containerPort: {{ int64 $group.ports.http }}
      protocol: TCP
    {{- end }}
    {{- if $group.rpc.ws }}
    - name: ws
      containerPort: {{ int64 $group.ports.ws }}
      protocol: TCP
    {{- end }}
    {{- if $root.Values.metrics.enabled }}
    - name: metrics
      containerPort: {{ int64 $group.ports.metrics }}
      protocol: TCP
    {{- end }}
  # `geth attach --exec` exits 0 even when the expression throws, so every
  # probe compares what it prints.
  startupProbe:
    exec:
      command:
        - /bin/sh
        - -c
        {{- if and $multiNode $pos }}
        # Proof of stake: a (re)started pod is first Ready only once its beacon
        # node is connected to every other validator and bootnode pod (those
        # pods; other pods one), so a rolling update never replaces the next
        # pod while this one is cut off (see the readiness probe).
        - >-
          [ "$(geth attach --exec "eth.blockNumber >= 0" /data/geth.ipc)" = true ]
          {{- include "kuberneteth.geth.beaconPeersAtLeast" (dict "pos" $pos "count" (include "kuberneteth.group.beaconPeersAtStart" .)) | nindent 10 }}
        {{- else }}
        - '[ "$(geth attach --exec "eth.blockNumber >= 0" /data/geth.ipc)" = true ]'
        {{- end }}
    periodSeconds: 10
    timeoutSeconds: 10
    failureThreshold: 90
  livenessProbe:
    exec:
      command:
        - /bin/sh
        - -c
        {{- if $pos }}
        # Proof of stake: also alive only while a block sync with peers makes
        # progress. After an unclean stop geth syncs again, and its downloader
        # can wait forever for a block every peer answered before having it; a
        # restart (SIGTERM) starts a new sync. Progress is anything eth.syncing
        # reports but the target, compared with the previous probe (in /tmp, the
        # pod's emptyDir): the same again, failureThreshold times, restarts geth.
        # Not behind (e.g. only indexing transactions) or without peers is alive.
        - >-
          now=$(geth attach --exec "var s = eth.syncing; s && s.highestBlock > s.currentBlock
          && net.peerCount > 0 ? (delete s.highestBlock, JSON.stringify(s)) : false" /data/geth.ipc)
          && last=${TMPDIR:-/tmp}/geth-sync-progress
          && if [ "$now" = false ]; then rm -f "$last";
          elif [ "$(cat "$last" 2>/dev/null)" = "$now" ]; then false;
          else printf '%s\n' "$now" > "$last"; fi
        {{- else }}
        - '[ "$(geth attach --exec "eth.blockNumber >= 0" /data/geth.ipc)" = true ]'
        {{- end }}
    periodSeconds: 30
    timeoutSeconds: 10
    failureThreshold: 6
  readinessProbe:
    exec:
      command:
        - /bin/sh
        - -c
        {{- if and $multiNode $pos }}
        # Proof of stake: also the pod's beacon node must have peers. A validator
        # or bootnode pod stays Ready while one other such pod is away (all but
        # one), so that one pod's restart leaves the others Ready: the
        # StatefulSet controller (Parallel) deletes old pods that are not Ready
        # at once, whatever maxUnavailable says. Other pods need one.
        - >-
          [ "$(geth attach --exec "net.peerCount > 0 && !eth.syncing" /data/geth.ipc)" = true ]
          {{- include "kuberneteth.geth.beaconPeersAtLeast" (dict "pos" $pos "count" (include "kuberneteth.group.beaconPeersWhenReady" .)) | nindent 10 }}
        {{- else if $multiNode }}
        - '[ "$(geth attach --exec "net.peerCount > 0 && !eth.syncing" /data/geth.ipc)" = true ]'
        {{- else }}
        - '[ "$(geth attach --exec "!eth.syncing" /data/geth.ipc)" = true ]'
        {{- end }}
    periodSeconds: 10
    timeoutSeconds: 10
    failureThreshold: 3
  securityContext:
    {{- include "kuberneteth.containerSecurityContext" $root | nindent 4 }}
  {{- with $group.resources.geth }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: data
      mountPath: /data
    - name: run
      mountPath: /run/kuberneteth
      readOnly: true
    - name: tmp
      mountPath: /tmp
{{- end -}}

{{/* Clique signers: votes the chain's signer set toward the compiled one (files/vote-signers.sh). ctx: dict root group */}}
{{- define "kuberneteth.container.voteSigners" -}}
{{- $group := .group -}}
# Clique signers: votes the chain's signer set toward the compiled one over
# geth's IPC socket (files/vote-signers.sh, reading the `-signers` ConfigMap).
- name: vote-signers
  image: {{ include "kuberneteth.image" $group.image | quote }}
  imagePullPolicy: {{ $group.image.pullPolicy }}
  command:
    - /bin/sh
    - /etc/kuberneteth/scripts/vote-signers.sh
  env:
    - name: HOME
      value: /tmp
    - name: IPC_SOCKET
      value: /data/geth.ipc
    - name: SIGNERS_FILE
      value: /etc/kuberneteth/signers/signers
    - name: HEARTBEAT
      value: /tmp/vote-signers.alive
  # Alive while its rounds go on (one at least every minute).
  livenessProbe:
    exec:
      command:
        - /bin/sh
        - -c
        - '[ -n "$(find /tmp/vote-signers.alive -mmin -3)" ]'
    initialDelaySeconds: 30
    periodSeconds: 60
    timeoutSeconds: 10
    failureThreshold: 3
  securityContext:
    {{- include "kuberneteth.containerSecurityContext" .root | nindent 4 }}
  resources:
    {{- toYaml $group.resources.voteSigners | nindent 4 }}
  volumeMounts:
    - name: data
      mountPath: /data
    - name: scripts
      mountPath: /etc/kuberneteth/scripts
      readOnly: true
    - name: signers
      mountPath: /etc/kuberneteth/signers
      readOnly: true
    - name: tmp
      mountPath: /tmp
{{- end -}}

{{/* Proof of stake: the Prysm beacon node, with the compiled flags. ctx: dict root group */}}
{{- define "kuberneteth.container.beacon" -}}
{{- $root := .root -}}
{{- $group := .group -}}
{{- $pos := $root.Values.proofOfStake -}}
- name: beacon
  image: {{ include "kuberneteth.image" $pos.beaconImage | quote }}
  imagePullPolicy: {{ $pos.beaconImage.pullPolicy }}
  args:
    {{- range $group.beaconArgs }}
    - {{ . | quote }}
    {{- end }}
  env:
    - name: HOME
      value: /tmp
  ports:
    - name: beacon-p2p
      containerPort: {{ int64 $pos.ports.tcp }}
      protocol: TCP
    - name: beacon-discv5
      containerPort: {{ int64 $pos.ports.udp }}
      protocol: UDP
    - name: beacon-api
      containerPort: {{ int64 $pos.ports.api }}
      protocol: TCP
    {{- if $root.Values.metrics.enabled }}
    - name: beacon-metrics
      containerPort: {{ int64 $pos.ports.beaconMetrics }}
      protocol: TCP
    {{- end }}
  # The Beacon API answers from start-up (also before genesis).
  startupProbe:
    tcpSocket:
      port: beacon-api
    periodSeconds: 10
    timeoutSeconds: 5
    failureThreshold: 90
  # Alive while it answers and has not been syncing for ten minutes in a row:
  # after a restart, Prysm v7.1.2 can stall in its initial sync for good
  # ("not descendant of finalized checkpoint", seen in a live rolling
  # upgrade) and a restart mends it. Its database keeps what it synced, so a
  # long sync goes on after a restart; before genesis a restart costs nothing.
  livenessProbe:
    httpGet:
      path: /eth/v1/node/health?syncing_status=503
      port: beacon-api
    periodSeconds: 30
    timeoutSeconds: 10
    failureThreshold: 20
  # 200 once synced; syncing answers 503 instead of 206 (which would count as ready).
  readinessProbe:
    httpGet:
      path: /eth/v1/node/health?syncing_status=503
      port: beacon-api
    periodSeconds: 10
    timeoutSeconds: 5
    failureThreshold: 3
  securityContext:
    {{- include "kuberneteth.containerSecurityContext" $root | nindent 4 }}
  {{- with $group.resources.beacon }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: data
      mountPath: /data
    - name: run
      mountPath: /run/kuberneteth
      readOnly: true
    - name: consensus
      mountPath: /etc/kuberneteth/consensus
      readOnly: true
    - name: genesis-state
      mountPath: /var/lib/kuberneteth/consensus
      readOnly: true
    - name: tmp
      mountPath: /tmp
{{- end -}}

{{/* Proof of stake, validator pods: the Prysm validator client, with the compiled flags. ctx: dict root group */}}
{{- define "kuberneteth.container.validator" -}}
{{- $root := .root -}}
{{- $group := .group -}}
{{- $pos := $root.Values.proofOfStake -}}
- name: validator
  image: {{ include "kuberneteth.image" $pos.validatorImage | quote }}
  imagePullPolicy: {{ $pos.validatorImage.pullPolicy }}
  args:
    {{- range $group.validatorArgs }}
    - {{ . | quote }}
    {{- end }}
  env:
    - name: HOME
      value: /tmp
  ports:
    # vc: validator client (a port name has at most 15 characters). It
    # serves metrics and /healthz, always: the liveness probe asks there.
    - name: vc-metrics
      containerPort: {{ int64 $pos.ports.validatorMetrics }}
      protocol: TCP
  # Alive while its monitoring server answers: a validator client whose
  # process hangs is restarted; one waiting for its beacon node answers.
  # Its slashing-protection database is on the pod's volume, so a restart
  # never signs twice. No readiness of its own: the pod's readiness is
  # its beacon node's and geth's.
  livenessProbe:
    httpGet:
      path: /healthz
      port: vc-metrics
    periodSeconds: 30
    timeoutSeconds: 10
    failureThreshold: 5
  securityContext:
    {{- include "kuberneteth.containerSecurityContext" $root | nindent 4 }}
  {{- with $group.resources.validator }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: data
      mountPath: /data
    - name: run
      mountPath: /run/kuberneteth
      readOnly: true
    - name: consensus
      mountPath: /etc/kuberneteth/consensus
      readOnly: true
    - name: tmp
      mountPath: /tmp
{{- end -}}
