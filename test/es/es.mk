# Embedded OpenSearch 2.19 node for tests: `include test/es/es.mk` from the main Makefile.
#   make es-up [ES_PORT=9250] [ES_SETTINGS="thread_pool.write.queue_size=1 ..."]   last line: the URL
#   make es-down [ES_PORT=9250]      make es-status      make es-clean (also deletes the node's data)
# Data and logs: build/es/node-$(ES_PORT)/ (node.log, pid). See test/es/es.sh.

ES_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
ES_SH := $(ES_MK_DIR)/es.sh
ES_PORT ?= 9250
ES_SETTINGS ?=

.PHONY: es-up es-down es-status es-clean es-build

es-build:
	@bash $(ES_SH) build

es-up:
	@bash $(ES_SH) up $(ES_PORT) $(ES_SETTINGS)

es-down:
	@bash $(ES_SH) down $(ES_PORT)

es-status:
	@bash $(ES_SH) status $(ES_PORT)

es-clean:
	@bash $(ES_SH) clean $(ES_PORT)

# The shipping suite against Elasticsearch 7.17 (test/es/es7/, Maven Central jars: no x-pack, so the
# data stream tests skip). The other targets above take ES_FLAVOR=es7 too (make es-up ES_FLAVOR=es7).
.PHONY: test-ship-es7
test-ship-es7: $(B)/lure
	ES_FLAVOR=es7 ES_NODE_PORTS=61000-63999 LURE_BIN=$(B)/lure python3 -m pytest -q \
		$(call XDIST,loadfile) test/ship

# lure-report (platform/analysis) against one OpenSearch node: its rules, a small day replayed through four
# openwrt-persona sensors, the HTML in headless Chromium (test/report; screenshot in build/report/report.png)
REPORT_B = build/$(TARGET)-openwrt$(if $(filter 1,$(SAN)),-san)
.PHONY: test-report
test-report:
	sh tools/deps.sh report
	$(MAKE) $(SUBJOBS) PERSONA=openwrt B=$(REPORT_B) $(REPORT_B)/lure
	LURE_BIN=$(REPORT_B)/lure ES_NODE_PORTS=61000-63999 python3 -m pytest -q test/report
