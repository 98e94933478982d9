# irqroute test build: a q35 PC with vfio-pci, nothing else
CONFIG_Q35=y
CONFIG_VFIO_PCI=y
