"""A small generic layer: list, detail and edit views that always apply the access matrix.

A model's view is a handful of class attributes. Objects outside the user's reach answer 404,
so a foreign agency's data is indistinguishable from data that does not exist; an object the user
sees but may not change answers 403. Every decision is ``access.can()`` or ``restrict()``.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from kompass.core import access
from kompass.core.audit import history_for


class MatrixRequired(LoginRequiredMixin):
    """Refuse (403) a signed-in user who may not ``required_action`` the view's model anywhere.

    ``required_action`` (default ``"view"``) is asked of ``access.can(user, action, model)``; a view
    of a model-less page sets ``required_model`` too.
    """

    required_action = "view"
    required_model = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            model = self.required_model or self.queryset.model
            if not access.can(request.user, self.required_action, model):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ObjectListView(MatrixRequired, TemplateView):
    """A filtered, paginated list. With htmx it answers only the results fragment."""

    queryset = None
    filterset_class = None
    partial_template_name = None
    paginate_by = 50
    #: The page's title (the layout's h1), and the URL name and label of its "New …" button, shown only
    #: when the matrix lets the user create the model somewhere.
    title = ""
    create_url_name = None
    create_label = ""

    def header_context(self) -> dict:
        header = {"title": self.title}
        if self.create_url_name and access.can(self.request.user, "create", self.queryset.model):
            header.update(action_url=reverse(self.create_url_name), action_label=self.create_label)
        return header

    def get_queryset(self):
        return self.queryset.restrict(self.request.user, "view")

    def get_template_names(self):
        if self.request.htmx and self.partial_template_name and not self.request.htmx.boosted:
            return [self.partial_template_name]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = self.get_queryset()
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(self.request.GET or None, queryset=queryset, request=self.request)
            queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        paginator = Paginator(queryset, self.paginate_by)
        page = paginator.get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filterset=filterset,
            page_obj=page,
            object_list=page.object_list,
            querystring=query.urlencode(),
            model=self.queryset.model,
            **self.header_context(),
        )
        return context


class ObjectDetailView(MatrixRequired, TemplateView):
    """One object, looked up inside the user's reach, with its audit history."""

    queryset = None
    #: The breadcrumb back to the list (URL name and label), and the URL name of the edit page, whose
    #: button shows only when the matrix lets the user change this object.
    list_url_name = None
    list_label = ""
    edit_url_name = None

    def header_context(self, obj) -> dict:
        header = {"title": str(obj)}
        if self.list_url_name:
            header.update(parent_url=reverse(self.list_url_name), parent_label=self.list_label)
        if self.edit_url_name and access.can(self.request.user, "change", obj):
            header.update(action_url=reverse(self.edit_url_name, args=[obj.pk]), action_label=_("Edit"))
        return header

    def get_object(self):
        return get_object_or_404(self.queryset.restrict(self.request.user, "view"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.get_object()
        context.update(object=obj, history=history_for(obj), **self.header_context(obj))
        return context


class ObjectEditView(MatrixRequired, TemplateView):
    """Create (no ``pk``) or change an object with a form, as the matrix allows.

    Creating needs ``create`` on the model somewhere, and on the new object as filled in; changing needs
    ``change`` on the object before and after the edit (so nothing can be moved out of one's reach).
    """

    queryset = None
    form_class = None
    success_message = ""

    def get_object(self):
        if "pk" not in self.kwargs:
            if not access.can(self.request.user, "create", self.queryset.model):
                raise PermissionDenied
            return None
        # Seeing but not changing an object is a 403; not seeing it at all is a 404.
        obj = get_object_or_404(self.queryset.restrict(self.request.user, "view"), pk=self.kwargs["pk"])
        if not access.can(self.request.user, "change", obj):
            raise PermissionDenied
        return obj

    def get_form(self, obj):
        data = self.request.POST if self.request.method == "POST" else None
        return self.form_class(data, instance=obj, user=self.request.user)

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return self.render_to_response(self.get_context_data(object=obj, form=self.get_form(obj)))

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        form = self.get_form(obj)
        if form.is_valid():
            if not access.can(request.user, "create" if obj is None else "change", form.instance):
                raise PermissionDenied
            saved = form.save()
            messages.success(request, self.success_message or _("Saved."))
            return redirect(saved.get_absolute_url())
        return self.render_to_response(self.get_context_data(object=obj, form=form), status=400)
