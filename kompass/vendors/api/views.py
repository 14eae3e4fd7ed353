from kompass.core.api.viewsets import RestrictedReadOnlyModelViewSet
from kompass.vendors.api.serializers import VendorConnectionSerializer
from kompass.vendors.models import VendorConnection


class VendorConnectionViewSet(RestrictedReadOnlyModelViewSet):
    """Vendor connections, read-only (administrators and agreement managers, by the matrix)."""

    queryset = VendorConnection.objects.all()
    serializer_class = VendorConnectionSerializer
    filterset_fields = ["kind", "active"]
    ordering_fields = ["name"]
