"""Printer N-GET on the well-known instance (PS3.4 H.4.6, Table H.4-17)."""

from pydicom.tag import Tag

from scu import FILM_SESSION, PRINTER, associate, comment_of, status_of


def test_an_empty_list_returns_every_printer_attribute_from_the_profile(printer):
    with associate(printer.port) as scu:
        status, ds = scu.get_printer()
        assert status_of(status) == 0
        assert ds.PrinterStatus == "NORMAL" and ds.PrinterStatusInfo == "NORMAL"
        assert ds.PrinterName == "PRINTSCP" and ds.Manufacturer == "printscp"
        assert ds.ManufacturerModelName == "Virtual Film Printer" and ds.DeviceSerialNumber == "PSCP-0001"
        assert ds.SoftwareVersions and ds.DateOfLastCalibration == "20261101" and ds.TimeOfLastCalibration == "080000"


def test_only_the_asked_attributes_are_returned(printer):
    with associate(printer.port) as scu:
        status, ds = scu.get_printer([Tag(0x2110, 0x0010), Tag(0x2110, 0x0030)])
        assert status_of(status) == 0
        assert sorted(elem.keyword for elem in ds) == ["PrinterName", "PrinterStatus"]


def test_an_unknown_attribute_gets_0107_with_the_rest_still_answered(printer):
    with associate(printer.port) as scu:
        status, ds = scu.get_printer([Tag(0x2110, 0x0010), Tag(0x0010, 0x0010)])
        assert status_of(status) == 0x0107
        assert status.AttributeIdentifierList == Tag(0x0010, 0x0010)
        assert ds.PrinterStatus == "NORMAL" and "PatientName" not in ds


def test_wrong_instance_and_wrong_class(printer):
    with associate(printer.port) as scu:
        assert status_of(scu.assoc.send_n_get([], PRINTER, "1.2.3.4", meta_uid=scu.meta)) == 0x0112
        refused = scu.assoc.send_n_get([], FILM_SESSION, "1.2.3.4", meta_uid=scu.meta)
        assert status_of(refused) == 0x0211
        assert "N-GET is not a service of Basic Film Session" in comment_of(refused)
